// Merging and splitting conversations in a real browser (headless Debian Chromium driven by
// playwright-core): an agent merges one of the customer's conversations into the one open on the
// page, sees its messages arrive, the merged-away conversation's open page says where they went
// (live), Undo puts both back; then a message and what follows split off into a new one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { launchChromium, callApi, sendToHook, startServer } from "./support.mjs";

const WAIT = 15_000; // every wait is bounded
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
let server, browser, token, channel;

before(async () => {
  server = await startServer("switchboard-e2e-merge-", (cli) => {
    cli(["account", "create", "--email", "anna@example.com", "--name", "Anna Agent", "--role", "agent"], { SWITCHBOARD_PASSWORD: "anna password 1234" });
    token = cli(["token", "create", "--name", "e2e-merge"]).trim().split("\n").pop();
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

/** A customer's message through the signed API hook. */
function hook(message) {
  return sendToHook(server.base, channel, message);
}

const texts = async (conversation) => (await api("GET", `/api/v1/conversations/${conversation}/messages`)).items.map((m) => m.text);

test("an agent merges two conversations of a customer, undoes it, and splits one", async () => {
  // Two conversations of one customer: the CRM's order thread and its invoice thread.
  const customer = { id: "c-42", name: "Marta Zielińska" };
  const order = await hook({ message_id: "o1", from: customer, thread_id: "order", subject: "Order 1042", text: "Where is my order 1042?" });
  const invoice = await hook({ message_id: "i1", from: customer, thread_id: "invoice", subject: "Invoice", text: "I need an invoice for 1042" });
  await hook({ message_id: "i2", from: customer, thread_id: "invoice", text: "With our VAT number please" });
  const [x, y] = [order.conversation_id, invoice.conversation_id];
  assert.notEqual(x, y);

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.base + "/login");
  await page.getByLabel(/Email/).fill("anna@example.com");
  await page.getByLabel(/^Password/).fill("anna password 1234");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/inbox/, { timeout: WAIT });
  // The invoice conversation stays open in a second tab: it hears of the merge live.
  const other = await context.newPage();
  other.on("pageerror", (e) => errors.push(String(e)));
  await other.goto(`${server.base}/conversations/${y}`);
  await other.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });

  // Merge the invoice conversation into the order conversation, from the order's page.
  await page.goto(`${server.base}/conversations/${x}`);
  await page.locator("body[data-live=ready]").waitFor({ state: "attached", timeout: WAIT });
  await page.getByText("Merge into this conversation…").click();
  await page.getByLabel("Conversation to merge in").selectOption({ label: "#2 Invoice · New" });
  await page.getByRole("button", { name: "Merge into this conversation" }).click();
  const timeline = page.locator("#timeline");
  await timeline.getByText("With our VAT number please").waitFor({ timeout: WAIT });
  const merged = timeline.locator('li.event[data-action="conversation.merged"]');
  assert.match(await merged.innerText(), /Merged from #2 by Anna Agent/);
  assert.match(await timeline.innerText(), /Where is my order 1042\?[\s\S]*I need an invoice[\s\S]*With our VAT number/, "one timeline, in time order");
  assert.deepEqual(await texts(y), []);
  const closed = await api("GET", `/api/v1/conversations/${y}`);
  assert.equal(closed.status, "closed");
  assert.equal(closed.merged_into, x);
  await other.locator("#conv-notice").getByText("This conversation was merged into #1.").waitFor({ timeout: WAIT });
  assert.equal(await other.locator("#conv-notice a").getAttribute("href"), `/conversations/${x}`);

  // The page with the merge line, its undo and the split controls: no serious accessibility problem.
  const audit = await browser.newContext({ bypassCSP: true, storageState: await context.storageState() });
  const accessible = async (path) => {
    const auditPage = await audit.newPage();
    await auditPage.goto(server.base + path);
    await auditPage.addScriptTag({ path: AXE });
    const serious = await auditPage.evaluate(async () => {
      const r = await window.axe.run(document);
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    });
    assert.deepEqual(serious, [], `accessibility of ${path}`);
    await auditPage.close();
  };
  await accessible(`/conversations/${x}`);

  // Undo: both conversations as they were.
  await merged.getByRole("button", { name: "Undo" }).click();
  await timeline.locator('li.event[data-action="conversation.unmerged"]').getByText("Anna Agent undid the merge of #2").waitFor({ timeout: WAIT });
  assert.equal(await timeline.getByText("With our VAT number please").count(), 0);
  assert.equal(await timeline.locator('li.event[data-action="conversation.merged"] button').count(), 0, "an undone merge offers no undo");
  assert.deepEqual(await texts(x), ["Where is my order 1042?"]);
  assert.deepEqual(await texts(y), ["I need an invoice for 1042", "With our VAT number please"]);
  const back = await api("GET", `/api/v1/conversations/${y}`);
  assert.equal(back.status, "new");
  assert.equal(back.merged_into, null);
  await other.locator("#timeline").getByText("With our VAT number please").waitFor({ timeout: WAIT });
  assert.equal(await other.locator("#conv-notice").innerText(), "");

  // The invoice conversation offers the merge form and the split of its second message.
  await accessible(`/conversations/${y}`);
  await audit.close();

  // Split: the customer's second invoice message, with what follows, becomes a conversation.
  await page.goto(`${server.base}/conversations/${y}`);
  const second = page.locator("#timeline .msg-in").filter({ hasText: "With our VAT number please" });
  await second.getByText("Split…").click();
  await second.getByLabel("with everything after it").check();
  await second.getByRole("button", { name: "Split into a new conversation" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/conversations/") && !url.pathname.endsWith(y), { timeout: WAIT });
  const split = page.url().split("/").pop();
  await page.locator("#timeline").getByText("With our VAT number please").waitFor({ timeout: WAIT });
  assert.match(await page.locator("#timeline").innerText(), /Conversation started[\s\S]*Split from #2 by Anna Agent[\s\S]*With our VAT number please/);
  assert.deepEqual(await texts(split), ["With our VAT number please"]);
  assert.deepEqual(await texts(y), ["I need an invoice for 1042"]);
  // A conversation's only customer message offers no split: nothing of the customer would stay.
  await page.goto(`${server.base}/conversations/${y}`);
  assert.equal(await page.locator("#timeline .split").count(), 0, "its only customer message cannot leave it");

  assert.deepEqual(errors, [], "no script errors");
  await context.close();
});
