// In a real browser: headless Chromium from Debian's package driven by
// playwright-core (no browser download). Log in, open /connect, connect all
// five platforms through sandbox consent popups, and the Deny path.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { chromium, type Browser, type Page } from "playwright-core";
import { PLATFORMS, platformConnections } from "../../shared/schema.ts";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`;

describe("connect in a real browser", { skip: noBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let userId: number;

  before(async () => {
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ baseURL: server.url });
    context.setDefaultTimeout(20_000);
    const identity = newIdentity("browser");
    // The context's request API shares the browser's cookie jar: this logs the browser in.
    const signup = await context.request.post("/api/auth/signup", { data: identity, headers: { origin: server.url } });
    assert.equal(signup.status(), 201);
    userId = (await signup.json()).user.id;
    page = await context.newPage();
    await page.goto("/connect");
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function clickInPopup(platform: string, decision: "allow" | "deny") {
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(`#platform-${platform} button[data-action=connect]`)]);
    await popup.waitForLoadState();
    assert.match(await popup.title(), /sandbox: authorize/);
    const closed = popup.waitForEvent("close");
    await popup.click(`button[value=${decision}]`);
    await closed;
  }

  it("Deny: the popup closes and nothing is connected", async () => {
    await clickInPopup("linkedin", "deny");
    await page.waitForLoadState();
    assert.equal(await page.getAttribute("#platform-linkedin", "data-status"), "disconnected");
    const rows = await server.deps.db.select().from(platformConnections).where(eq(platformConnections.userId, userId));
    assert.equal(rows.length, 0);
  });

  for (const platform of PLATFORMS) {
    it(`Allow ${platform}: the popup closes and the platform shows connected`, async () => {
      await clickInPopup(platform, "allow");
      await page.waitForSelector(`#platform-${platform}[data-status=connected]`);
      assert.match((await page.textContent(`#platform-${platform} .status`)) ?? "", /Connected/);
    });
  }

  it("all five are stored, one active connection each", async () => {
    const rows = await server.deps.db.select().from(platformConnections).where(eq(platformConnections.userId, userId));
    assert.deepEqual(rows.filter((r) => r.isActive).map((r) => r.platform).sort(), [...PLATFORMS].sort());
  });
});
