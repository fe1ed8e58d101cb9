// The help center and the knowledge base in a real browser: the public pages in three
// languages with JavaScript off (server-rendered, no script on the page at all), search by
// another word form, the language switch, drafts and stale articles nowhere, axe-core clean;
// then a supervisor writes an article in the workspace, edits it, and reads the diff.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, callApi, startServer } from "./support.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "screenshots");
const WAIT = 15_000; // every wait is bounded

let server, browser, token;

const returns = {
  status: "published",
  variants: [
    { locale: "ru", kind: "web", title: "Как вернуть товар", body: "Верните товар в течение **14 дней**.\n\n- сохраните чек\n- напишите нам" },
    { locale: "ru", kind: "short", title: "Возврат", body: "Вернуть товар можно в течение 14 дней." },
    { locale: "pl", kind: "web", title: "Jak zwrócić towar", body: "Zwrot jest możliwy w ciągu **14 dni**." },
    { locale: "en", kind: "web", title: "How to return an item", body: "You can return an item within **14 days**." },
  ],
  questions: [{ locale: "ru", text: "как вернуть товар" }],
};

before(async () => {
  server = await startServer("switchboard-e2e-kb-", (cli) => {
    cli(["account", "create", "--email", "sofia@example.com", "--name", "Sofia Lead", "--role", "supervisor"], { SWITCHBOARD_PASSWORD: "sofia password 1234" });
    token = cli(["token", "create", "--name", "e2e-kb"]).trim().split("\n").pop();
  });
  browser = await launchChromium();
  const category = await callApi(server.base, token, "POST", "/api/v1/kb/categories", { names: { ru: "Возвраты", pl: "Zwroty", en: "Returns" } });
  await callApi(server.base, token, "POST", "/api/v1/kb/articles", { ...returns, category_id: category.id });
  await callApi(server.base, token, "POST", "/api/v1/kb/articles", {
    status: "draft", variants: [{ locale: "ru", kind: "web", title: "Черновик про скидки", body: "Скидки" }],
  });
  await callApi(server.base, token, "POST", "/api/v1/kb/articles", {
    status: "published", review_by: "2020-01-01", variants: [{ locale: "ru", kind: "web", title: "Старые сроки доставки", body: "Доставка" }],
  });
});

after(async () => {
  await browser?.close();
  server?.stop();
});

test("the help center works without script, in three languages, and is accessible", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: "pl-PL" });
  const page = await context.newPage();
  await page.goto(`${server.base}/help/default/`);
  assert.match(page.url(), /\/help\/default\/pl\/$/, "the reader's language");
  assert.equal(await page.locator("h1").textContent(), "Centrum pomocy");
  assert.equal(await page.locator("script").count(), 0, "no script at all");
  await page.getByRole("link", { name: "Jak zwrócić towar" }).click();
  assert.match(await page.locator(".hc-body").innerHTML(), /<strong>14 dni<\/strong>/);
  await page.getByRole("link", { name: "Русский" }).click();
  assert.equal(await page.locator("h1").textContent(), "Как вернуть товар");
  assert.equal(await page.locator("html").getAttribute("lang"), "ru");
  await page.screenshot({ path: join(SHOTS, "help-center.png"), fullPage: true });

  // Search by another form of the word; the draft and the stale article are found nowhere.
  let found = false;
  for (let i = 0; i < 50 && !found; i++) {
    await page.goto(`${server.base}/help/default/ru/`);
    await page.getByLabel("Поиск по центру помощи").fill("товаров");
    await page.getByRole("button", { name: "Найти" }).click();
    found = (await page.getByRole("link", { name: "Как вернуть товар" }).count()) > 0;
    if (!found) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(found, "the index has the article");
  await page.goto(`${server.base}/help/default/ru/`);
  const home = await page.content();
  assert.ok(home.includes("Возвраты") && !home.includes("Черновик") && !home.includes("Старые сроки"), home);
  await page.goto(`${server.base}/help/default/ru/search?q=${encodeURIComponent("доставка")}`);
  assert.ok(!(await page.content()).includes("Старые сроки"), "stale never found");

  for (const locale of ["ru", "pl", "en"]) {
    const audit = await browser.newContext({ bypassCSP: true });
    const auditPage = await audit.newPage();
    for (const path of [`/help/default/${locale}/`, `/help/default/${locale}/search?q=zwrot`]) {
      await auditPage.goto(server.base + path);
      await auditPage.addScriptTag({ path: AXE });
      const result = await auditPage.evaluate(async () => {
        const r = await window.axe.run(document);
        const show = (v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`;
        return { passes: r.passes.length, all: r.violations.map(show) };
      });
      assert.ok(result.passes > 10, `axe ran on ${path}`);
      assert.deepEqual(result.all, [], `accessibility of ${path}`);
    }
    await audit.close();
  }
  await context.close();
});

test("a supervisor writes and edits an article in the workspace and reads the diff", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/login`);
  await page.getByLabel(/Email/).fill("sofia@example.com");
  await page.getByLabel(/^Password/).fill("sofia password 1234");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/inbox/, { timeout: WAIT });
  await page.getByRole("link", { name: "Knowledge base" }).click();
  await page.getByRole("link", { name: "New article" }).click();
  await page.locator("#kb-status").selectOption("published");
  await page.locator("#t-en_short").fill("Opening hours");
  await page.locator("#b-en_short").fill("We answer from 9 to 18 on weekdays.");
  await page.locator("#t-en_web").fill("Opening hours");
  await page.locator("#b-en_web").fill("We answer from **9 to 18** on weekdays.");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/kb\/[0-9a-f-]{36}$/, { timeout: WAIT });
  await page.locator("#b-en_web").fill("We answer from **8 to 20** on weekdays.");
  await page.getByRole("button", { name: "Save" }).click();
  const articlePath = new URL(page.url()).pathname;
  await page.getByRole("link", { name: "Versions" }).click();
  const diff = await page.locator(".kb-diff").first().textContent();
  assert.match(diff, /- We answer from \*\*9 to 18\*\*/);
  assert.match(diff, /\+ We answer from \*\*8 to 20\*\*/);
  await page.goto(`${server.base}/kb?filter=review_due`);
  assert.ok((await page.content()).includes("Старые сроки доставки"), "the stale article is due for review");

  // The workspace's knowledge-base pages: no serious or critical accessibility problem.
  const audit = await browser.newContext({ bypassCSP: true, storageState: await context.storageState() });
  const auditPage = await audit.newPage();
  for (const path of ["/kb", "/kb?filter=review_due", "/kb/new", articlePath, `${articlePath}/versions`]) {
    await auditPage.goto(server.base + path);
    await auditPage.addScriptTag({ path: AXE });
    const serious = await auditPage.evaluate(async () => {
      const r = await window.axe.run(document);
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    assert.deepEqual(serious, [], `accessibility of ${path}`);
  }
  await audit.close();
  await context.close();
});
