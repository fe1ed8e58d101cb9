// What the browser tests share: the browser they drive, a server of their own and their calls
// of the REST API.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/**
 * A Switchboard server of its own: a fresh data directory prepared by `prepare(cli)` (accounts,
 * tokens: before the server holds the database), then `switchboard serve` on a free loopback
 * port. Resolves once it listens: `{ base, data, cli, stop }`.
 */
export async function startServer(prefix, prepare = () => {}) {
  const bin = process.env.SWITCHBOARD_BIN;
  assert.ok(bin, "SWITCHBOARD_BIN must name the switchboard binary");
  const data = mkdtempSync(join(tmpdir(), prefix));
  const cli = (args, env = {}) => execFileSync(bin, ["--data", data, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  await prepare(cli);
  const server = spawn(bin, ["--data", data, "serve", "--listen", "127.0.0.1:0"], { env: { ...process.env, NO_COLOR: "1", RUST_LOG: "info" } });
  const log = [];
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not start:\n" + log.join(""))), 15_000);
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
  const stop = () => { server.kill("SIGTERM"); rmSync(data, { recursive: true, force: true }); };
  return { base, data, cli, stop };
}

/** A customer's message through an API channel's signed hook (`channel`: `{id, secret}`); its answer, asserted 200. */
export async function sendToHook(base, channel, message) {
  const body = JSON.stringify(message);
  const sig = "sha256=" + createHmac("sha256", channel.secret).update(body).digest("hex");
  const r = await fetch(`${base}/hooks/api/${channel.id}`, { method: "POST", headers: { "content-type": "application/json", "x-switchboard-signature": sig }, body });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}
