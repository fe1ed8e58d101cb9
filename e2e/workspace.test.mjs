// The agent workspace in a real browser: headless Debian Chromium driven by playwright-core.
// One Switchboard server on a free loopback port with its own data directory; a fake CRM that
// takes our replies; two agents in two browser contexts. Run by scripts/e2e.sh (from the
// README's test command), which installs Chromium and this folder's one npm package.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { launchChromium, callApi } from "./support.mjs";

const BIN = process.env.SWITCHBOARD_BIN;
assert.ok(BIN, "SWITCHBOARD_BIN must name the switchboard binary");
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "screenshots");
const WAIT = 15_000; // every wait is bounded
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

let data, server, base, setupUrl, browser, crm, crmUrl, token;
const crmReceived = [];
const log = [];

/** Runs the CLI on the test's data directory; its output. */
function cli(args, env = {}) {
  return execFileSync(BIN, ["--data", data, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
}

function stripAnsi(s) {
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

before(async () => {
  data = mkdtempSync(join(tmpdir(), "switchboard-e2e-"));
  // A second agent and an API token, before the server holds the database.
  cli(["account", "create", "--email", "olga@example.com", "--name", "Olga Viewer", "--role", "viewer"], { SWITCHBOARD_PASSWORD: "olga password 1234" });
  token = cli(["token", "create", "--name", "e2e"]).trim().split("\n").pop();

  // The CRM our replies go to: answers 200 and remembers what it got.
  crm = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      crmReceived.push({ ...JSON.parse(body || "{}"), signature: req.headers["x-switchboard-signature"] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise((ok) => crm.listen(0, "127.0.0.1", ok));
  crmUrl = `http://127.0.0.1:${crm.address().port}/replies`;

  server = spawn(BIN, ["--data", data, "serve", "--listen", "127.0.0.1:0"], { env: { ...process.env, NO_COLOR: "1", RUST_LOG: "info" } });
  const found = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not start:\n" + log.join(""))), WAIT);
    let setup = null, listening = null;
    const read = (chunk) => {
      const text = stripAnsi(chunk.toString());
      log.push(text);
      setup = setup || (text.match(/(http:\/\/[^\s"]+\/setup\/[0-9a-f]+)/) || [])[1];
      listening = listening || (text.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/) || [])[1];
      if (setup && listening) {
        clearTimeout(timer);
        ok({ setup, listening });
      }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", read);
    server.on("exit", (code) => fail(new Error(`server exited ${code}:\n` + log.join(""))));
  });
  base = found.listening;
  setupUrl = found.setup;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  crm?.close();
  if (data) rmSync(data, { recursive: true, force: true });
});

function api(method, path, body) {
  return callApi(base, token, method, path, body);
}

/** A message from a customer through the signed API hook, as an integrating system sends it. */
async function hook(channel, secret, message) {
  const body = JSON.stringify(message);
  const sig = "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
  const r = await fetch(`${base}/hooks/api/${channel}`, { method: "POST", headers: { "content-type": "application/json", "x-switchboard-signature": sig }, body });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

async function rawEmail(channel, secret, mail) {
  const sig = "sha256=" + createHmac("sha256", secret).update(mail).digest("hex");
  const r = await fetch(`${base}/hooks/email/${channel}`, { method: "POST", headers: { "content-type": "message/rfc822", "x-switchboard-signature": sig }, body: mail });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

async function signIn(page, email, password) {
  await page.goto(base + "/inbox");
  assert.match(page.url(), /\/login\?next=/, "a page without a session leads to the sign-in form");
  await page.getByLabel(/Email/).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/inbox/, { timeout: WAIT });
}

test("two agents work one cross-channel conversation live, in three languages", async () => {
  const anna = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const annaPage = await anna.newPage();
  const errors = [];
  annaPage.on("pageerror", (e) => errors.push(String(e)));

  // 1. The one-time setup link from the log creates the first admin, signed in at once.
  await annaPage.goto(setupUrl);
  await annaPage.getByLabel("Name").fill("Anna Kowalska");
  await annaPage.getByLabel("Email").fill("anna@example.com");
  await annaPage.getByLabel("New password").fill("anna password 1234");
  await annaPage.getByRole("button", { name: /Create admin/ }).click();
  await annaPage.waitForURL(/\/inbox/, { timeout: WAIT });
  const cookies = await anna.cookies();
  const session = cookies.find((c) => c.name === "sb_session");
  assert.ok(session && session.httpOnly && session.sameSite === "Lax", JSON.stringify(cookies));
  const again = await (await fetch(setupUrl)).text();
  assert.ok(again.includes("Create the first admin"), "the page still renders, but the link is spent:");
  const reuse = await fetch(setupUrl, { method: "POST", headers: { origin: base, "content-type": "application/x-www-form-urlencoded" }, body: "name=X&email=x%40example.com&password=xxxxxxxxxxxx" });
  assert.equal(reuse.status, 404, "a used setup link creates nothing");

  // Administration: the CRM channel from the admin pages, its webhook URL, secret and a
  // connection test that reaches the CRM; email through the API.
  await annaPage.goto(base + "/admin/channels");
  await annaPage.getByLabel("Name").fill("CRM");
  await annaPage.getByLabel("Kind").selectOption("api");
  await annaPage.getByLabel("Configuration (JSON)").fill(JSON.stringify({ url: crmUrl }));
  await annaPage.getByRole("button", { name: "Create" }).click();
  await annaPage.waitForURL(/\/admin\/channels\/[0-9a-f-]{36}$/, { timeout: WAIT });
  const crmChannel = { id: annaPage.url().split("/").pop(), secret: await annaPage.getByLabel("Signing secret").inputValue() };
  assert.equal(await annaPage.getByLabel("Webhook URL").inputValue(), `${base}/hooks/api/${crmChannel.id}`);
  await annaPage.getByRole("button", { name: "Test the connection" }).click();
  await annaPage.getByText("The connection works.").waitFor({ timeout: WAIT });
  assert.ok(crmReceived.some((m) => m.type === "ping" && m.signature), "the test reached the CRM, signed");
  const mail = await api("POST", "/api/v1/channels", { kind: "email", name: "Support", config: { address: "support@example.com" } });

  // A canned reply with placeholders.
  await annaPage.goto(base + "/admin/canned");
  await annaPage.getByLabel("Title").fill("Greeting");
  await annaPage.getByLabel("Text").fill("Hello {{customer.name}}, this is {{agent.name}}.");
  await annaPage.getByRole("button", { name: "Create" }).click();
  await annaPage.locator("form.card-form input[value='Greeting']").waitFor({ timeout: WAIT });

  // Invite Jan; he sets his password through the link and is signed in.
  await annaPage.goto(base + "/admin/people");
  await annaPage.getByLabel("Name").fill("Jan Nowak");
  await annaPage.getByLabel("Email").fill("jan@example.com");
  await annaPage.locator("form[action='/admin/people/invite'] select[name=role]").selectOption("agent");
  await annaPage.getByRole("button", { name: "Invite" }).click();
  const invitation = await annaPage.getByLabel("Invitation link").inputValue();
  assert.match(invitation, /\/invite\/[0-9a-f]+$/);
  const jan = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const janPage = await jan.newPage();
  // Record browser notifications instead of showing them (headless has no notification area).
  await janPage.addInitScript(() => {
    window.__notified = [];
    window.Notification = function (title, options) { window.__notified.push(options.body); };
    window.Notification.permission = "granted";
  });
  await janPage.goto(invitation);
  await janPage.getByLabel("New password").fill("jan password 1234");
  await janPage.getByRole("button", { name: /Set password/ }).click();
  await janPage.waitForURL(/\/inbox/, { timeout: WAIT });
  assert.equal((await (await fetch(invitation)).text()).includes("no longer valid"), true, "the link is spent");

  // 2. A message posted to the API hook appears in the inbox without a reload.
  await annaPage.goto(base + "/inbox");
  await annaPage.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });
  const first = await hook(crmChannel.id, crmChannel.secret, {
    message_id: "crm-1", from: { id: "c-77", name: "Marta Zielińska", email: "marta@example.pl" },
    text: "Where is my order 1042? It was due on Friday.", subject: "Order 1042 has not arrived",
  });
  const row = annaPage.locator(`#inbox-list [data-id="${first.conversation_id}"]`);
  await row.waitFor({ timeout: WAIT });
  assert.match(await row.innerText(), /Marta Zielińska/);
  await annaPage.locator("#notices").getByText("New conversation").waitFor({ timeout: WAIT });

  // The same customer writes by email: same customer, same conversation, continued on email.
  await rawEmail(mail.id, mail.secret, [
    "From: Marta Zielińska <marta@example.pl>", "To: support@example.com", "Subject: Re: Order 1042 has not arrived",
    "Message-ID: <m1@example.pl>", `Date: ${new Date(Date.now() - 60_000).toUTCString()}`, "Content-Type: text/plain; charset=utf-8", "",
    "Also, can I change the delivery address?", "",
  ].join("\r\n"));

  // 3. Open it: one timeline across channels.
  await row.locator("a").click();
  await annaPage.waitForURL(/\/conversations\//, { timeout: WAIT });
  await annaPage.locator("#timeline").getByText("Also, can I change the delivery address?").waitFor({ timeout: WAIT });
  // In the order it reached us (the mail's Date says a minute ago): question, the move to email, the mail.
  assert.match(await annaPage.locator("#timeline").innerText(), /Where is my order 1042\?[\s\S]*Continued on Email after API[\s\S]*Also, can I change/);

  // 4. Reply on the CRM channel with a file: the outbound message shows, then its delivery status.
  await annaPage.locator("#reply-channel").selectOption({ label: "API · CRM" });
  await annaPage.getByLabel("Message").fill("It ships tomorrow, Marta.");
  await annaPage.getByLabel("Attach files").setInputFiles({ name: "label.txt", mimeType: "text/plain", buffer: Buffer.from("tracking 1042") });
  await annaPage.getByRole("button", { name: "Send" }).click();
  const reply = annaPage.locator("#timeline .msg-out").filter({ hasText: "It ships tomorrow, Marta." });
  await reply.waitFor({ timeout: WAIT });
  await reply.locator('[data-delivery="sent"], [data-delivery="delivered"]').waitFor({ timeout: WAIT });
  assert.ok(crmReceived.some((m) => m.text === "It ships tomorrow, Marta."), "the CRM got the reply");
  const file = reply.getByRole("link", { name: "label.txt" });
  assert.equal(await (await annaPage.request.get(base + (await file.getAttribute("href")))).text(), "tracking 1042", "the file is kept");

  // The canned reply, filled for this customer and agent.
  await annaPage.locator("#canned").selectOption({ label: "Greeting" });
  await annaPage.getByRole("button", { name: "Insert" }).click();
  assert.equal(await annaPage.getByLabel("Message").inputValue(), "Hello Marta Zielińska, this is Anna Kowalska.");
  await annaPage.getByLabel("Message").fill("");
  mkdirSync(SHOTS, { recursive: true });
  await annaPage.screenshot({ path: join(SHOTS, "conversation.png"), fullPage: true });

  // 5. A second agent opens it: Anna sees "viewing", then "typing".
  await annaPage.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });
  await janPage.goto(`${base}/conversations/${first.conversation_id}`);
  await janPage.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });
  await annaPage.locator("#activity").getByText("Jan Nowak is viewing").waitFor({ timeout: WAIT });
  await janPage.getByLabel("Message").pressSequentially("Let me check", { delay: 20 });
  await annaPage.locator("#activity").getByText("Jan Nowak is typing a reply").waitFor({ timeout: WAIT });
  await annaPage.locator("#presence").getByText("Jan Nowak").waitFor({ timeout: WAIT });

  // 6. A note with an @mention: Jan's open page is told.
  await annaPage.getByLabel("Internal note").check();
  await annaPage.getByLabel("Message").fill("@jan can you check the warehouse?");
  await annaPage.getByRole("button", { name: "Send" }).click();
  await annaPage.locator("#timeline .msg-note").filter({ hasText: "@jan can you check the warehouse?" }).waitFor({ timeout: WAIT });
  await janPage.locator("#notices").getByText(/Anna Kowalska mentioned you/).waitFor({ timeout: WAIT });
  // A browser notification too while Jan's tab is in the background.
  await janPage.evaluate(() => Object.defineProperty(document, "hidden", { value: true, configurable: true }));
  await annaPage.getByLabel("Internal note").check();
  await annaPage.getByLabel("Message").fill("@JanNowak the courier called");
  await annaPage.getByRole("button", { name: "Send" }).click();
  await janPage.waitForFunction(() => window.__notified.some((b) => b.includes("the courier called")), null, { timeout: WAIT });
  await janPage.evaluate(() => Object.defineProperty(document, "hidden", { value: false, configurable: true }));
  await janPage.locator("#unread").getByText("2").waitFor({ timeout: WAIT });
  assert.equal(await janPage.getByLabel("Message").inputValue(), "Let me check", "a live update keeps a half-written reply");

  // 7. Solve: the status changes, for Jan too.
  await annaPage.locator("#solve").click();
  await annaPage.locator("#conv-status").getByText("Solved").waitFor({ timeout: WAIT });
  await janPage.locator("#conv-status").getByText("Solved").waitFor({ timeout: WAIT });

  // Jan takes it; when Marta writes again, Jan hears of it wherever he is.
  await annaPage.locator("#c-assignee").selectOption({ label: "Jan Nowak" });
  await annaPage.locator("aside form.stack[action$='/update'] button[type=submit]").click();
  await annaPage.locator("#timeline").getByText("assigned it to Jan Nowak").waitFor({ timeout: WAIT });
  await janPage.goto(base + "/inbox?view=mine&status=any");
  await janPage.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });
  await hook(crmChannel.id, crmChannel.secret, { message_id: "crm-1b", from: { id: "c-77", name: "Marta Zielińska" }, text: "Any news about the address?" });
  await janPage.locator("#notices").getByText("New reply from a customer").waitFor({ timeout: WAIT });
  await janPage.locator(`#inbox-list [data-id="${first.conversation_id}"]`).waitFor({ timeout: WAIT });

  // Mentions wait in Jan's notifications until read.
  await janPage.goto(base + "/notifications");
  const mentions = janPage.locator(".notifications-list li.unread");
  assert.equal(await mentions.count(), 2);
  assert.match(await mentions.first().innerText(), /Anna Kowalska mentioned you in #1[\s\S]*the courier called/);
  await mentions.first().getByRole("button").click();
  await janPage.waitForURL(/\/conversations\/.*#m-/, { timeout: WAIT });
  assert.equal(await janPage.locator("#unread").innerText(), "1");
  await janPage.goto(base + "/notifications");
  await janPage.getByRole("button", { name: "Mark all as read" }).click();
  await janPage.waitForURL(/\/notifications$/, { timeout: WAIT });
  assert.equal(await janPage.locator(".notifications-list li.unread").count(), 0);
  assert.equal(await janPage.locator("#unread").isHidden(), true);

  // A second profile with Marta's email: suggested as the same person; merged in one click, undone.
  // (A CRM user who wrote before now says their email is Marta's: the CRM vouches for it, but it
  // belongs to another profile, so it is a suggestion for an agent, never an automatic merge.)
  await hook(crmChannel.id, crmChannel.secret, { message_id: "crm-98", from: { id: "c-99", name: "M. Zielińska" }, text: "Second account" });
  await hook(crmChannel.id, crmChannel.secret, { message_id: "crm-99", from: { id: "c-99", name: "M. Zielińska", email: "marta@example.pl" }, text: "It is me again" });
  await annaPage.reload();
  const suggestion = annaPage.locator(".suggestions li").filter({ hasText: "M. Zielińska" });
  await suggestion.waitFor({ timeout: WAIT });
  await suggestion.getByRole("button", { name: "Merge" }).click();
  await annaPage.getByText("Profiles merged.").waitFor({ timeout: WAIT });
  assert.equal(await annaPage.locator(".customer .others li").count(), 2, "both conversations under one customer");
  await annaPage.getByRole("button", { name: "Undo" }).click();
  await annaPage.waitForURL((url) => !url.search.includes("merged="), { timeout: WAIT });
  assert.equal(await annaPage.locator(".customer .others li").count(), 1, "undone exactly");
  // The suggestion is back after the undo; "not the same person" dismisses it for good.
  await suggestion.getByRole("button", { name: "Not the same person" }).click();
  await suggestion.waitFor({ state: "detached", timeout: WAIT });

  // Customer attributes and notes.
  await annaPage.getByText("Edit customer").click();
  await annaPage.getByLabel(/Attributes/).fill("plan: Business\ncity: Kraków");
  await annaPage.getByLabel("Notes about the customer").fill("Prefers email.");
  await annaPage.locator(".customer form.stack button").click();
  await annaPage.locator(".customer dl.attributes").getByText("Kraków").waitFor({ timeout: WAIT });

  // The inbox with a few more conversations, for the screenshot (and the live count).
  const ago = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString();
  for (const [i, name, text, minutes] of [[2, "Олег Смирнов", "Не приходит код подтверждения", 3 * 24 * 60], [3, "Piotr Wiśniewski", "Faktura za listopad", 125], [4, "Emma Clark", "Refund for a damaged parcel", 22]]) {
    await hook(crmChannel.id, crmChannel.secret, { message_id: `crm-${i}`, from: { id: `c-${i}`, name }, text, subject: text, timestamp: ago(minutes) });
  }
  await annaPage.goto(base + "/inbox?view=all&status=any");
  await annaPage.locator("#inbox-list .conv").nth(3).waitFor({ timeout: WAIT });
  const waits = await annaPage.locator("#inbox-list .waiting").allInnerTexts();
  for (const expected of ["waiting 3 days", "waiting 2 hours", "waiting 22 minutes"]) {
    assert.ok(waits.includes(expected), `${expected} in ${waits}`);
  }
  await annaPage.screenshot({ path: join(SHOTS, "inbox.png"), fullPage: true });

  // Script and HTML in a customer's name, subject and message render as text everywhere.
  const evil = await hook(crmChannel.id, crmChannel.secret, {
    message_id: "crm-evil", from: { id: "c-evil", name: "<img src=x onerror=\"window.__pwned=1\">Eve" },
    text: "<script>window.__pwned=1</script><b>bold?</b>", subject: "<svg onload=\"window.__pwned=1\">",
  });
  await annaPage.locator(`#inbox-list [data-id="${evil.conversation_id}"]`).waitFor({ timeout: WAIT });
  assert.match(await annaPage.locator(`#inbox-list [data-id="${evil.conversation_id}"]`).innerText(), /<img src=x onerror=/);
  await annaPage.goto(`${base}/conversations/${evil.conversation_id}`);
  assert.match(await annaPage.locator("#timeline").innerText(), /<script>window.__pwned=1<\/script><b>bold\?<\/b>/);
  assert.equal(await annaPage.locator("#timeline b, #timeline script, #timeline img, h1 svg").count(), 0, "no element from customer text");
  assert.equal(await annaPage.evaluate(() => window.__pwned), undefined, "nothing the customer wrote ran");
  await annaPage.goto(base + "/inbox?view=all&status=any");

  // Keyboard: j moves through the list, / goes to the search.
  await annaPage.locator("body").press("j");
  assert.ok(await annaPage.evaluate(() => document.activeElement.closest(".conv") !== null));
  await annaPage.keyboard.press("/");
  assert.equal(await annaPage.evaluate(() => document.activeElement.id), "q");
  // e solves the selected conversation from the list; n opens it with a note ready.
  await annaPage.locator("#q").blur();
  const emma = annaPage.locator("#inbox-list .conv").filter({ hasText: "Emma Clark" });
  await emma.locator("a").focus();
  await annaPage.keyboard.press("e");
  await annaPage.locator("#inbox-list .conv").filter({ hasText: "Emma Clark" }).locator(".st-solved").waitFor({ timeout: WAIT });
  await annaPage.locator("#inbox-list .conv").filter({ hasText: "Emma Clark" }).locator("a").focus();
  await annaPage.keyboard.press("n");
  await annaPage.waitForURL(/\/conversations\/.*#note$/, { timeout: WAIT });
  assert.equal(await annaPage.getByLabel("Internal note").isChecked(), true);
  assert.equal(await annaPage.evaluate(() => document.activeElement.id), "reply-text");
  await annaPage.goto(base + "/inbox?view=all&status=any");

  // Workspace settings and API tokens.
  await annaPage.goto(base + "/admin/settings");
  await annaPage.getByLabel("Continuity window (hours)").fill("48");
  // The page has one form per setting (the contact policy's too): save the windows' own.
  await annaPage.locator("form").filter({ hasText: "Continuity window (hours)" }).getByRole("button", { name: "Save" }).click();
  await annaPage.waitForURL(/\/admin\/settings$/, { timeout: WAIT });
  assert.equal(await annaPage.getByLabel("Continuity window (hours)").inputValue(), "48");
  await annaPage.goto(base + "/admin/tokens");
  await annaPage.getByLabel("Name").fill("Zapier");
  await annaPage.getByRole("button", { name: "Create" }).click();
  const zapier = await annaPage.locator(".notice-box input.copy").inputValue();
  assert.equal((await fetch(base + "/api/v1/channels", { headers: { authorization: `Bearer ${zapier}` } })).status, 200);
  await annaPage.locator("tr").filter({ hasText: "Zapier" }).getByRole("button", { name: "Revoke" }).click();
  await annaPage.locator("tr").filter({ hasText: "Zapier" }).getByText("Revoked").waitFor({ timeout: WAIT });
  assert.equal((await fetch(base + "/api/v1/channels", { headers: { authorization: `Bearer ${zapier}` } })).status, 401, "revoked at once");
  // Outgoing webhooks: an endpoint made from its page shows its secret once; a test event
  // arrives signed as Standard Webhooks says (checked here with node's own HMAC), shows in the
  // delivery log, and its Replay button sends it again with the same webhook-id.
  const hooks = [];
  const warehouse = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hooks.push({ headers: req.headers, body });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((ok) => warehouse.listen(0, "127.0.0.1", ok));
  await annaPage.goto(base + "/admin/webhooks");
  await annaPage.getByLabel("URL", { exact: true }).fill(`http://127.0.0.1:${warehouse.address().port}/hooks`);
  await annaPage.getByLabel("Description", { exact: true }).fill("Data warehouse");
  await annaPage.getByLabel("All events, including those added later").check();
  await annaPage.getByRole("button", { name: "Create", exact: true }).click();
  const secret = await annaPage.locator(".notice-box input.copy").inputValue();
  assert.match(secret, /^whsec_/);
  const webhookPath = new URL(await annaPage.locator("form[action$='/test']").getAttribute("action"), base).pathname.replace(/\/test$/, "");
  await annaPage.getByRole("button", { name: "Send a test event" }).click();
  await annaPage.waitForURL(/done=test/, { timeout: WAIT });
  const tests = async (n) => {
    for (let i = 0; i < 150 && hooks.filter((h) => JSON.parse(h.body).type === "webhook.test").length < n; i++) await new Promise((ok) => setTimeout(ok, 100));
    return hooks.filter((h) => JSON.parse(h.body).type === "webhook.test");
  };
  const [tested] = await tests(1);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = "v1," + createHmac("sha256", key).update(`${tested.headers["webhook-id"]}.${tested.headers["webhook-timestamp"]}.${tested.body}`).digest("base64");
  assert.ok(tested.headers["webhook-signature"].split(" ").includes(expected), "a valid Standard Webhooks signature");
  const delivered = annaPage.locator("tr[data-status=delivered]").filter({ hasText: "webhook.test" });
  for (let i = 0; i < 50 && (await delivered.count()) === 0; i++) {
    await new Promise((ok) => setTimeout(ok, 200));
    await annaPage.reload();
  }
  await delivered.getByRole("button", { name: "Replay" }).click();
  await annaPage.waitForURL(/done=replayed/, { timeout: WAIT });
  const [, replayed] = await tests(2);
  assert.equal(replayed.headers["webhook-id"], tested.headers["webhook-id"], "a replay keeps the webhook-id");
  warehouse.closeAllConnections();
  await new Promise((ok) => warehouse.close(ok));

  // An agent has no administration.
  assert.equal(await janPage.locator("nav a[href='/admin']").count(), 0);
  assert.equal((await janPage.goto(base + "/admin/people")).status(), 403);

  // 8. Russian, then Polish, from the agent's preferences; plurals follow each language.
  for (const [label, inbox, count] of [["Русский", "Входящие", /6 обращений/], ["Polski", "Skrzynka", /6 rozmów/]]) {
    await annaPage.goto(base + "/account");
    await annaPage.locator("#language").selectOption({ label });
    await annaPage.locator("form[action='/account/preferences'] button").click();
    await annaPage.waitForURL(/saved=1/, { timeout: WAIT });
    await annaPage.goto(base + "/inbox?view=all&status=any");
    assert.equal(await annaPage.locator("nav[aria-label] a[href='/inbox']").first().innerText(), inbox);
    assert.match(await annaPage.locator(".total").innerText(), count);
  }

  // 9. On a 390 px phone the inbox and the conversation fit the width.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await jan.storageState() });
  const phonePage = await phone.newPage();
  for (const path of ["/inbox", `/conversations/${first.conversation_id}`]) {
    await phonePage.goto(base + path);
    const width = await phonePage.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${path} is ${width}px wide on a 390px screen`);
  }

  // Without any script the pages still work: sign in, open, reply by the plain form.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const plainPage = await plain.newPage();
  await signIn(plainPage, "jan@example.com", "jan password 1234");
  await plainPage.goto(`${base}/conversations/${first.conversation_id}`);
  await plainPage.getByLabel("Message").fill("Sent without JavaScript");
  await plainPage.getByRole("button", { name: "Send" }).click();
  await plainPage.locator("#timeline .msg-out").filter({ hasText: "Sent without JavaScript" }).waitFor({ timeout: WAIT });
  await plain.close();

  // Accessibility: axe-core finds no serious or critical problem on any page (labels, names,
  // contrast, landmarks...). Its script is injected, so this context lets it past our CSP.
  const audit = await browser.newContext({ bypassCSP: true, storageState: await anna.storageState() });
  const auditPage = await audit.newPage();
  const pages = ["/inbox", "/inbox?view=mine&status=any", `/conversations/${first.conversation_id}`, "/notifications", "/account",
    "/admin/people", "/admin/teams", "/admin/channels", `/admin/channels/${crmChannel.id}`, "/admin/canned", "/admin/tokens", "/admin/settings",
    "/admin/webhooks", webhookPath];
  const anonymous = await browser.newContext({ bypassCSP: true });
  const targets = [...pages.map((path) => [auditPage, path]), [await anonymous.newPage(), "/login"]];
  for (const [page, path] of targets) {
    await page.goto(base + path);
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document);
      const show = (v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`;
      return { passes: r.passes.length, all: r.violations.map(show), serious: r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map(show) };
    });
    assert.ok(result.passes > 10, `axe ran on ${path}`);
    if (process.env.E2E_VERBOSE) console.log(path, result.all);
    assert.deepEqual(result.serious, [], `accessibility of ${path}`);
  }
  await Promise.all([audit.close(), anonymous.close()]);

  // A viewer reads but cannot answer or change anything.
  const olga = await browser.newContext();
  const olgaPage = await olga.newPage();
  await signIn(olgaPage, "olga@example.com", "olga password 1234");
  await olgaPage.goto(`${base}/conversations/${first.conversation_id}`);
  assert.equal(await olgaPage.locator("#composer").count(), 0);
  assert.equal(await olgaPage.locator("#c-status").count(), 0);

  assert.deepEqual(errors, [], "no script errors");
  await Promise.all([anna.close(), jan.close(), phone.close(), olga.close()]);
});
