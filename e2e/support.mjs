// What the browser tests share: the browser they drive and their calls of the REST API.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

/** Headless Debian Chromium (or $CHROMIUM), quiet: no background traffic of its own. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/** A call of the server's REST API with a bearer token; its JSON, asserted successful. */
export async function callApi(base, token, method, path, body) {
  const r = await fetch(base + path, {
    method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const json = await r.json();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}
