// The purchase in a real browser (Debian's Chromium through playwright-core,
// no download): start a checkout as the client does, the sandbox's Stripe
// Checkout page, a declined card, Pay, and the return to
// /brand-purpose?payment=success&setup=required with the plan applied; Cancel
// returns to /subscription.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { noBrowser, signedUpBrowser } from "../support/browser.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { one, SANDBOX_PRICES } from "./helpers.ts";

describe("buying a plan in a real browser", { skip: noBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let userId: number;

  before(async () => {
    server = await startTestServer();
    ({ browser, page, userId } = await signedUpBrowser(server, "browserpay"));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** What the subscription page does (CLIENT.md §2): POST {priceId}, then window.location.href = url. */
  async function startCheckout(priceId: string): Promise<void> {
    await page.goto("/api/user");
    const url = await page.evaluate(async (priceId) => {
      const res = await fetch("/api/create-checkout-session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ priceId }) });
      return (await res.json()).url as string;
    }, priceId);
    await page.goto(url);
    assert.match(await page.title(), /Stripe sandbox: checkout/);
  }

  it("Cancel on the checkout page returns to /subscription and buys nothing", async () => {
    await startCheckout(SANDBOX_PRICES.growth);
    await Promise.all([page.waitForURL("**/subscription"), page.click("button[value=cancel]")]);
    assert.equal(new URL(page.url()).pathname, "/subscription");
    assert.equal((await one(server, "select subscription_active from users where id = $1", [userId])).subscription_active, false);
  });

  it("a declined card says so; Pay then returns to brand purpose with the plan applied", async () => {
    await startCheckout(SANDBOX_PRICES.starter);
    assert.match((await page.textContent("#amount")) ?? "", /\$19\.99/);
    await page.click("button[value=decline]");
    assert.match((await page.textContent("#notice")) ?? "", /declined/);
    assert.equal((await one(server, "select subscription_active from users where id = $1", [userId])).subscription_active, false);

    await Promise.all([page.waitForURL("**/brand-purpose?**"), page.click("button[value=pay]")]);
    const landed = new URL(page.url());
    assert.equal(landed.pathname, "/brand-purpose");
    assert.equal(landed.search, "?payment=success&setup=required");
    const row = await one(server, "select subscription_plan, subscription_active, total_posts from users where id = $1", [userId]);
    assert.deepEqual(row, { subscription_plan: "starter", subscription_active: true, total_posts: 12 });
    const usage = await page.evaluate(async () => (await fetch("/api/subscription-usage")).json());
    assert.equal(usage.totalAllocation, 12);
  });
});
