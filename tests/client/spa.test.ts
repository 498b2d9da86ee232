// The React client served as an app (STATIC_DIR): deep links load index.html,
// GET /api/login lands on /login, API paths keep their JSON 404, and caching
// follows the file kind. A small fake build (index.html + a hashed asset under
// assets/) stands in for the real client; the browser half drives Debian's
// Chromium through playwright-core like tests/connections/browser.test.ts.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestServer, type TestServer } from "../support/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`;
const ASSET = "/assets/index-Bx7Qm2Ka.js";
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** A client build in miniature: the page renders the path it was loaded at, from a hashed script. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiq-spa-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), `<!doctype html><html><head><title>AgencyIQ</title><script type="module" src="${ASSET}"></script></head><body><div id="root"></div></body></html>`);
  writeFileSync(join(dir, ASSET.slice(1)), `document.getElementById("root").textContent = "route:" + location.pathname + location.search;`);
  writeFileSync(join(dir, "robots.txt"), "User-agent: *\n");
  return dir;
}

describe("SPA fallback over HTTP", () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = fakeBuild();
    server = await startTestServer({ env: { STATIC_DIR: dir } });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const path of ["/", "/login", "/subscription", "/redeem-certificate", "/reset-password?token=abc&email=a%2Bb%40example.com", "/schedule", "/analytics", "/yearly-analytics", "/profile", "/connect-platforms", "/brand-purpose"]) {
    it(`a page load of ${path} gets index.html, never cached`, async () => {
      const r = await server.client().get(path, { accept: HTML });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /text\/html/);
      assert.match(r.text, /<div id="root">/);
      assert.equal(r.headers.get("cache-control"), "no-store");
    });
  }

  it("hashed assets are cached for a year, unhashed root files are revalidated", async () => {
    const asset = await server.client().get(ASSET, { accept: "*/*" });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const robots = await server.client().get("/robots.txt");
    assert.equal(robots.headers.get("cache-control"), "no-cache");
  });

  it("a missing asset is a 404, not the page (a script must not receive HTML)", async () => {
    const r = await server.client().get("/assets/gone-AAAAAAAA.js", { accept: "*/*" });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, "not_found");
  });

  it("GET /api/login answers 302 to /login", async () => {
    const r = await server.client().get("/api/login", { accept: HTML });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "/login");
  });

  for (const path of ["/api/nope", "/api/login/extra", "/auth/nope/deeper", "/sandbox/nope", "/metrics/x", "/healthz/x"]) {
    it(`a page load of the server's own path ${path} is not the page`, async () => {
      const r = await server.client().get(path, { accept: HTML });
      assert.notEqual(r.status, 200);
      assert.doesNotMatch(r.text, /<div id="root">/);
      assert.match(r.headers.get("content-type") ?? "", /application\/json/);
      // The sandbox imitates the platforms' own error bodies, so only ours carry the envelope.
      if (!path.startsWith("/sandbox")) assert.equal(typeof r.body.error, "string");
    });
  }

  it("an unknown API path stays a JSON 404 with the envelope", async () => {
    const r = await server.client().get("/api/does-not-exist", { accept: HTML });
    assert.equal(r.status, 404);
    assert.deepEqual({ error: r.body.error, message: r.body.message, code: r.body.code }, { error: "No such API endpoint", message: "No such API endpoint", code: "not_found" });
  });

  it("path-safety rules still apply before the fallback", async () => {
    const r = await server.client().get("/assets/..%2f..%2fetc%2fpasswd", { accept: HTML });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "bad_path");
  });

  it("a write to a client route is not answered with the page", async () => {
    const r = await server.client().post("/schedule", {}, { accept: HTML });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, "not_found");
  });
});

describe("SPA fallback in a real browser", { skip: noBrowser }, () => {
  let server: TestServer;
  let dir: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    dir = fakeBuild();
    server = await startTestServer({ env: { STATIC_DIR: dir } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ baseURL: server.url });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a deep link loads the app, which runs its hashed script at that route", async () => {
    const response = await page.goto("/reset-password?token=t0k&email=a%2Bb%40example.com");
    assert.equal(response?.status(), 200);
    await page.waitForFunction(() => document.getElementById("root")?.textContent?.startsWith("route:"));
    assert.equal(await page.textContent("#root"), "route:/reset-password?token=t0k&email=a%2Bb%40example.com");
  });

  it("a full-page GET /api/login ends on the app's /login page", async () => {
    await page.goto("/api/login");
    assert.equal(new URL(page.url()).pathname, "/login");
    await page.waitForFunction(() => document.getElementById("root")?.textContent === "route:/login");
  });

  it("an unknown API path loaded as a page shows JSON, not the app", async () => {
    const response = await page.goto("/api/not-a-thing");
    assert.equal(response?.status(), 404);
    assert.match(response?.headers()["content-type"] ?? "", /application\/json/);
    assert.equal(await page.$("#root"), null);
  });
});
