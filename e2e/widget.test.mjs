// The web chat widget in a real browser. A shop's page on one origin (a Node server on its own
// loopback port) embeds the widget from the Switchboard origin with the one script tag; a
// visitor chats with an agent signed in to the workspace, live both ways; reloads and keeps the
// history; falls back to long polling when WebSockets are blocked; rates the solved
// conversation. A page on an origin not in the channel's allowlist gets no widget.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
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
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const WAIT = 15_000; // every wait is bounded

let data, server, base, browser, token, shop, shopOrigin, evil, evilOrigin, channel;
const log = [];

function cli(args, env = {}) {
  return execFileSync(BIN, ["--data", data, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
}

/** A site on its own origin whose page embeds the widget (`data-channel` = `channelId()`). */
async function site(channelId) {
  const s = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme shop</title></head>
<body><main><h1>Acme shop</h1><p>Boxes of every size.</p></main>
<script src="${base}/widget.js" data-channel="${channelId()}" async></script></body></html>`);
  });
  await new Promise((ok) => s.listen(0, "127.0.0.1", ok));
  return s;
}

before(async () => {
  data = mkdtempSync(join(tmpdir(), "switchboard-e2e-widget-"));
  cli(["account", "create", "--email", "marta@example.com", "--name", "Marta Agent", "--role", "agent"], { SWITCHBOARD_PASSWORD: "marta password 1234" });
  token = cli(["token", "create", "--name", "e2e-widget"]).trim().split("\n").pop();
  server = spawn(BIN, ["--data", data, "serve", "--listen", "127.0.0.1:0"], { env: { ...process.env, NO_COLOR: "1", RUST_LOG: "info" } });
  base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not start:\n" + log.join(""))), WAIT);
    const read = (chunk) => {
      const text = chunk.toString().replace(/\x1b\[[0-9;]*m/g, "");
      log.push(text);
      const found = (text.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/) || [])[1];
      if (found) { clearTimeout(timer); ok(found); }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", read);
    server.on("exit", (code) => fail(new Error(`server exited ${code}:\n` + log.join(""))));
  });
  shop = await site(() => channel);
  shopOrigin = `http://127.0.0.1:${shop.address().port}`;
  evil = await site(() => channel);
  evilOrigin = `http://127.0.0.1:${evil.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  shop?.close();
  evil?.close();
  if (data) rmSync(data, { recursive: true, force: true });
});

function api(method, path, body) {
  return callApi(base, token, method, path, body);
}

/** Polls `probe` until it returns something truthy (bounded). */
async function until(probe, what) {
  const end = Date.now() + WAIT;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

test("a visitor on another origin chats live with an agent, keeps the history, and rates the chat", async () => {
  const created = await api("POST", "/api/v1/channels", {
    kind: "widget", name: "Shop chat", config: { allowed_origins: [shopOrigin], title: "Acme help", email_after_seconds: 600 },
  });
  channel = created.id;
  assert.notEqual(new URL(base).origin, shopOrigin, "the shop is another origin than Switchboard");

  // The agent signs in and keeps the workspace open.
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const agent = await agentContext.newPage();
  await agent.goto(base + "/login");
  await agent.getByLabel(/Email/).fill("marta@example.com");
  await agent.getByLabel(/^Password/).fill("marta password 1234");
  await agent.getByRole("button", { name: "Sign in" }).click();
  await agent.waitForURL(/\/inbox/, { timeout: WAIT });

  // The visitor opens the shop; the widget appears in its corner.
  const visitorContext = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const visitor = await visitorContext.newPage();
  const errors = [];
  visitor.on("pageerror", (e) => errors.push(String(e)));
  const thirdParty = [];
  visitor.on("request", (r) => { const o = new URL(r.url()).origin; if (o !== shopOrigin && o !== new URL(base).origin) thirdParty.push(r.url()); });
  await visitor.goto(shopOrigin + "/");
  await visitor.locator(".launcher").click({ timeout: WAIT });
  await visitor.locator(".panel h2", { hasText: "Acme help" }).waitFor({ timeout: WAIT });
  // The pre-chat form: a name and an optional email.
  await visitor.getByLabel("Your name").fill("Irina");
  await visitor.getByLabel("Email (optional)").fill("irina@example.com");
  await visitor.getByRole("button", { name: "Start the chat" }).click();
  await until(() => visitor.locator(".panel").getAttribute("data-live").then((v) => v === "socket"), "the socket");
  await visitor.getByLabel("Write a message…").fill("Hello! Do you have <b>big</b> boxes?");
  await visitor.keyboard.press("Enter");
  await visitor.locator(".msg.in", { hasText: "Do you have <b>big</b> boxes?" }).waitFor({ timeout: WAIT });
  assert.equal(await visitor.locator(".msg b").count(), 0, "what people write stays text");

  // The agent sees the conversation and the visitor typing, and answers.
  const conversations = await until(async () => (await api("GET", "/api/v1/conversations")).items.find((c) => c.channels.some((ch) => ch.id === channel)), "the conversation");
  await agent.goto(`${base}/conversations/${conversations.id}`);
  await agent.locator("body[data-live=ready]").waitFor({ timeout: WAIT });
  await agent.getByText("Hello! Do you have <b>big</b> boxes?").waitFor({ timeout: WAIT });
  await visitor.getByLabel("Write a message…").pressSequentially("Also", { delay: 30 });
  await agent.locator("#activity", { hasText: "The customer is typing" }).waitFor({ timeout: WAIT });
  await agent.locator("#reply-text").pressSequentially("Yes, up to 120 cm", { delay: 20 });
  await visitor.locator(".typing", { hasText: "Marta Agent is typing" }).waitFor({ timeout: WAIT });
  await agent.getByRole("button", { name: "Send" }).click();
  await visitor.locator(".msg.out", { hasText: "Yes, up to 120 cm" }).waitFor({ timeout: WAIT });
  assert.equal(await visitor.locator(".msg.out .who").first().textContent(), "Marta Agent");
  // The visitor's browser confirmed it: delivered.
  await until(async () => (await api("GET", `/api/v1/conversations/${conversations.id}/messages`)).items.some((m) => m.text === "Yes, up to 120 cm" && m.delivery_status === "delivered"), "delivered");

  // A file from the visitor.
  await visitor.getByLabel("Write a message…").fill("My sketch");
  await visitor.locator("input[type=file]").setInputFiles({ name: "sketch.txt", mimeType: "text/plain", buffer: Buffer.from("30 x 20 x 10") });
  await visitor.getByRole("button", { name: "Send", exact: true }).click();
  await visitor.locator(".msg.in a", { hasText: "sketch.txt" }).waitFor({ timeout: WAIT });
  await agent.getByText("sketch.txt").first().waitFor({ timeout: WAIT });

  // A reload keeps the whole conversation, without asking for the name again.
  await visitor.reload();
  await visitor.locator(".launcher").click({ timeout: WAIT });
  await visitor.locator(".msg.out", { hasText: "Yes, up to 120 cm" }).waitFor({ timeout: WAIT });
  assert.equal(await visitor.locator(".msg.in", { hasText: "Do you have <b>big</b> boxes?" }).count(), 1);
  assert.equal(await visitor.locator(".prechat").isVisible(), false);
  mkdirSync(SHOTS, { recursive: true });
  await visitor.screenshot({ path: join(SHOTS, "widget.png") });

  // Accessibility of the open widget (axe-core reaches into its shadow root).
  await visitor.addScriptTag({ path: AXE });
  const found = await visitor.evaluate(async () => (await window.axe.run({ include: [["[data-switchboard-widget]"]] }, { resultTypes: ["violations"] })).violations);
  const serious = found.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(serious, [], "serious accessibility problems in the widget");

  // Solved: the widget asks how it went, once.
  await api("PATCH", `/api/v1/conversations/${conversations.id}`, { status: "solved" });
  await visitor.getByText("How did we do?").waitFor({ timeout: WAIT });
  await visitor.locator("[data-rating='5']").click();
  await visitor.getByLabel("Anything to add? (optional)").fill("Quick and kind");
  await visitor.getByRole("button", { name: "Send the rating" }).click();
  await visitor.getByText("Thank you for your rating!").waitFor({ timeout: WAIT });
  await agent.reload();
  await agent.getByText("The customer rated the conversation 5/5: Quick and kind").waitFor({ timeout: WAIT });

  assert.deepEqual(errors, [], "no script errors on the shop's page");
  assert.deepEqual(thirdParty, [], "the widget asks nobody but Switchboard");
  await visitorContext.close();
  await agentContext.close();
});

test("where WebSockets are blocked the widget long-polls, and a site not allowed gets no widget", async () => {
  assert.ok(channel, "the first test created the channel");
  const context = await browser.newContext();
  const page = await context.newPage();
  // Every socket is refused, as by a proxy that does not pass upgrades.
  await page.routeWebSocket(/\/socket$/, (ws) => ws.close());
  await page.goto(shopOrigin + "/");
  await page.locator(".launcher").click({ timeout: WAIT });
  await page.getByLabel("Your name").fill("Piotr");
  await page.getByRole("button", { name: "Start the chat" }).click();
  await page.getByLabel("Write a message…").fill("Is anyone there?");
  await page.keyboard.press("Enter");
  await until(() => page.locator(".panel").getAttribute("data-live").then((v) => v === "polling"), "long polling");
  const conversation = await until(async () => (await api("GET", "/api/v1/conversations?q=anyone")).items[0], "the conversation");
  await api("POST", `/api/v1/conversations/${conversation.id}/messages`, { text: "Yes, Piotr — how can we help?" });
  await page.locator(".msg.out", { hasText: "how can we help?" }).waitFor({ timeout: WAIT });
  await context.close();

  // The evil site embeds the same tag: the server refuses it, and nothing is drawn.
  const evilContext = await browser.newContext();
  const evilPage = await evilContext.newPage();
  const consoleErrors = [], failed = [];
  evilPage.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  evilPage.on("requestfailed", (r) => failed.push(r.url()));
  await evilPage.goto(evilOrigin + "/");
  await until(() => consoleErrors.some((e) => e.includes("Switchboard chat is not available")), "the refusal in the console");
  assert.ok(failed.some((u) => u.endsWith(`/widget/v1/${channel}/session`)), "the browser was not allowed to read the session: " + failed.join(", "));
  // What the browser asked first (the CORS preflight) is refused by the server itself.
  const preflight = await fetch(`${base}/widget/v1/${channel}/session`, { method: "OPTIONS", headers: { origin: evilOrigin, "access-control-request-method": "POST" } });
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
  assert.equal(await evilPage.locator("[data-switchboard-widget]").count(), 0, "no widget on a site not allowed");
  await evilContext.close();
});
