// Automation in a real browser: an admin builds a rule in the editor (word forms, a team by
// name), dry-runs it over the conversations so far, saves it, and sees it act on a new message;
// an SLA countdown in the inbox turns into a breach at its deadline; a macro written in Admin →
// Macros is applied from the conversation page in one click. axe-core on the editor.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { launchChromium, callApi, sendToHook, startServer } from "./support.mjs";

const WAIT = 15_000; // every wait is bounded
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
let server, browser, token, channel;

before(async () => {
  server = await startServer("switchboard-e2e-rules-", (cli) => {
    cli(["account", "create", "--email", "olga@example.com", "--name", "Olga Admin", "--role", "admin"], { SWITCHBOARD_PASSWORD: "olga password 1234" });
    token = cli(["token", "create", "--name", "e2e-rules"]).trim().split("\n").pop();
  });
  browser = await launchChromium();
  channel = await api("POST", "/api/v1/channels", { kind: "api", name: "CRM", config: { url: "http://127.0.0.1:9/replies" } });
});

after(async () => {
  await browser?.close();
  server?.stop();
});

function api(method, path, body) {
  return callApi(server.base, token, method, path, body);
}

function hook(message) {
  return sendToHook(server.base, channel, message);
}

async function signIn() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.base + "/login");
  await page.getByLabel(/Email/).fill("olga@example.com");
  await page.getByLabel(/^Password/).fill("olga password 1234");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/inbox/, { timeout: WAIT });
  return { context, page, errors };
}

test("an admin builds a rule, dry-runs it, saves it and sees it act on a new message", async () => {
  const team = await api("POST", "/api/v1/teams", { name: "Поддержка" });
  await hook({ message_id: "p1", from: { id: "u1", name: "Иван" }, text: "У нас проблема с доставкой" });
  await hook({ message_id: "p2", from: { id: "u2", name: "Anna" }, text: "Thanks, all good" });
  const { context, page, errors } = await signIn();
  await page.goto(server.base + "/admin/rules");
  await page.getByLabel("Name", { exact: true }).fill("Problems to support");
  await page.getByLabel("When", { exact: true }).selectOption({ label: "A customer message arrives" });
  await page.getByLabel("Field 1").selectOption({ label: "Message text" });
  await page.getByLabel("Operator 1").selectOption({ label: "contains any of" });
  await page.getByLabel("Value 1", { exact: true }).fill("проблема, problem");
  await page.getByLabel("Action 1").selectOption({ label: "Set team" });
  await page.getByLabel("Action value 1").fill("Поддержка");
  await page.getByLabel("Action 2").selectOption({ label: "Add tags" });
  await page.getByLabel("Action value 2").fill("problem");

  // The dry run names the one earlier conversation it would have matched, and changes nothing.
  await page.getByRole("button", { name: "Dry run" }).click();
  const result = page.locator("section.dry-run");
  await result.waitFor({ timeout: WAIT });
  assert.match(await result.innerText(), /Would match 1 of the last 2 conversations/);
  assert.match(await result.locator("tbody").innerText(), /#1/);
  assert.equal((await api("GET", "/api/v1/rules")).items.length, 0, "a dry run saves nothing");
  assert.equal(await page.getByLabel("Value 1", { exact: true }).inputValue(), "проблема, problem", "the form keeps what was typed");

  // The editor is accessible.
  const audit = await browser.newContext({ bypassCSP: true, storageState: await context.storageState() });
  const auditPage = await audit.newPage();
  await auditPage.goto(server.base + "/admin/rules");
  await auditPage.addScriptTag({ path: AXE });
  const serious = await auditPage.evaluate(async () => {
    const r = await window.axe.run(document);
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  assert.deepEqual(serious, [], "accessibility of the rule editor");
  await audit.close();

  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/admin\/rules$/, { timeout: WAIT });
  await page.getByRole("link", { name: "Problems to support" }).waitFor({ timeout: WAIT });

  // A new message with another form of the word is routed before anyone opens it.
  const out = await hook({ message_id: "p3", from: { id: "u3", name: "Пётр" }, text: "Опять проблемы с оплатой" });
  const c = await api("GET", `/api/v1/conversations/${out.conversation_id}`);
  assert.equal(c.team, team.id);
  assert.deepEqual(c.tags, ["problem"]);
  const untouched = await api("GET", `/api/v1/conversations/${(await hook({ message_id: "p4", from: { id: "u4" }, text: "Hello there" })).conversation_id}`);
  assert.equal(untouched.team, null);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an SLA countdown in the inbox turns into a breach at its deadline", async () => {
  await api("POST", "/api/v1/sla-policies", { name: "Fast", first_response_minutes: 1, warn_before_minutes: 0 });
  // The customer wrote 52 seconds ago: first response is due in about 8 seconds.
  const sent = new Date(Date.now() - 52_000).toISOString();
  const out = await hook({ message_id: "s1", from: { id: "sla-1", name: "Jan Kowalski" }, text: "Gdzie jest moja paczka?", timestamp: sent });
  const { context, page, errors } = await signIn();
  await page.goto(`${server.base}/inbox?view=all`);
  await page.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });
  const row = page.locator(`#inbox-list .conv[data-id="${out.conversation_id}"]`);
  const countdown = row.locator(".sla");
  await countdown.waitFor({ timeout: WAIT });
  assert.match(await countdown.innerText(), /First response due in 0:0\d/);
  assert.equal(await countdown.evaluate((el) => el.classList.contains("breached")), false);
  await row.locator(".sla.breached").waitFor({ timeout: 20_000 });
  assert.match(await row.locator(".sla").innerText(), /First response overdue/);
  // The server says so too, and the refreshed row keeps it.
  const c = await api("GET", `/api/v1/conversations/${out.conversation_id}`);
  assert.equal(c.sla[0].breached, true);
  await page.reload();
  assert.match(await page.locator(`#inbox-list .conv[data-id="${out.conversation_id}"] .sla`).innerText(), /overdue/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an admin writes a macro and applies it to a conversation in one click", async () => {
  const out = await hook({ message_id: "mac1", from: { id: "u-mac", name: "Marta" }, text: "Gdzie jest mój zwrot?" });
  const { context, page, errors } = await signIn();
  await page.goto(server.base + "/admin/macros");
  await page.getByLabel("Macro name").fill("Refund sent");
  await page.getByLabel("Action 1").selectOption({ label: "Add tags" });
  await page.getByLabel("Action value 1").fill("refund");
  await page.getByLabel("Action 2").selectOption({ label: "Set status" });
  await page.getByLabel("Action value 2").fill("pending");
  await page.getByLabel(/^Reply to the customer/).fill("Hello {{customer.name}}, your refund is on its way.");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/admin\/macros$/, { timeout: WAIT });
  await page.getByRole("link", { name: "Refund sent" }).waitFor({ timeout: WAIT });

  await page.goto(server.base + `/conversations/${out.conversation_id}`);
  await page.getByLabel("Macro", { exact: true }).selectOption({ label: "Refund sent" });
  await page.getByRole("button", { name: "Apply macro" }).click();
  await page.waitForURL(new RegExp(`/conversations/${out.conversation_id}$`), { timeout: WAIT });
  await page.locator("#timeline").getByText("Hello Marta, your refund is on its way.").waitFor({ timeout: WAIT });
  await page.locator("#timeline").getByText(/applied the macro «Refund sent»/).waitFor({ timeout: WAIT });
  const c = await api("GET", `/api/v1/conversations/${out.conversation_id}`);
  assert.equal(c.status, "pending");
  assert.deepEqual(c.tags, ["refund"]);
  assert.deepEqual(errors, []);
  await context.close();
});
