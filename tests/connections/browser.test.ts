// In a real browser: headless Chromium from Debian's package driven by
// playwright-core (no browser download). Log in, open /connect, connect all
// five platforms through sandbox consent popups, and the Deny path.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { PLATFORMS, platformConnections } from "../../shared/schema.ts";
import { noBrowser, signedUpBrowser } from "../support/browser.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

describe("connect in a real browser", { skip: noBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let userId: number;

  before(async () => {
    server = await startTestServer();
    ({ browser, page, userId } = await signedUpBrowser(server, "browser"));
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
