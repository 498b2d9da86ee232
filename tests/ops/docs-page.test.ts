// /api/docs in a real browser (Debian's Chromium through playwright-core, as in
// tests/connections/browser.test.ts): Swagger UI from node_modules renders the
// contract under our CSP, with nothing fetched from another origin.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium, noBrowser } from "../support/browser.ts";
import { startTestServer, type TestServer } from "../support/server.ts";


describe("API reference page in a real browser", { skip: noBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it("renders every tag and operation, no CSP violation, no outside request", async () => {
    const page = await browser.newPage({ baseURL: server.url });
    page.setDefaultTimeout(30_000);
    const problems: string[] = [];
    const outside: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on("request", (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) outside.push(r.url());
    });
    await page.goto("/api/docs");
    await page.locator(".swagger-ui .info .title", { hasText: "AgencyIQ API" }).waitFor();
    await page.locator(".opblock-summary-path", { hasText: "/api/posts/{id}" }).first().waitFor();
    const operations = await page.locator(".opblock").count();
    assert.ok(operations > 40, `${operations} operations shown`);
    assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused/i.test(p)), []);
    assert.deepEqual(problems.filter((p) => !/^Failed to load resource/.test(p)), []);
    assert.deepEqual(outside, []);
  });
});
