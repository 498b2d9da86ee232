// Payment configuration: the sandbox with the client's price ids when no key
// is set, real Stripe with a key, and production refusing a key without the
// webhook secret (or the prices), naming the variables.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.ts";
import { TEST_SECRETS } from "../support/server.ts";

const PRODUCTION = {
  ...TEST_SECRETS,
  NODE_ENV: "production",
  DATA_DIR: "/tmp",
  DATABASE_URL: "postgres://db.example/agencyiq",
  PUBLIC_URL: "https://app.example",
  PLATFORM_MODE: "sandbox",
  ALLOW_SANDBOX_IN_PRODUCTION: "true",
  SMTP_URL: "smtp://mail.example:587",
};

describe("payment configuration", () => {
  it("without a key: the sandbox, whose prices are the React client's literal ids", () => {
    const c = loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp" });
    assert.equal(c.billing.mode, "sandbox");
    assert.deepEqual(c.billing.prices, { starter: "price_1234567890starter", growth: "price_1234567890growth", professional: "price_1234567890professional" });
    assert.equal(c.billing.sandboxApiUrl, "http://localhost:5000/sandbox/stripe");
  });

  it("with a key: Stripe, with the configured prices only", () => {
    const c = loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp", STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_PRICE_GROWTH: "price_real_growth" });
    assert.equal(c.billing.mode, "stripe");
    assert.deepEqual(c.billing.prices, { starter: undefined, growth: "price_real_growth", professional: undefined });
    assert.equal(c.billing.webhookSecret, undefined);
  });

  it("live platforms and no key: payments disabled", () => {
    const c = loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp", PLATFORM_MODE: "live" });
    assert.equal(c.billing.mode, "disabled");
  });

  it("production refuses a live key without the webhook secret and the prices, naming them", () => {
    assert.throws(
      () => loadConfig({ ...PRODUCTION, STRIPE_SECRET_KEY: "sk_live_abc" }),
      (err: Error) =>
        err instanceof ConfigError &&
        /STRIPE_WEBHOOK_SECRET/.test(err.message) &&
        /STRIPE_PRICE_STARTER/.test(err.message) &&
        /STRIPE_PRICE_PROFESSIONAL/.test(err.message),
    );
    const ok = loadConfig({
      ...PRODUCTION,
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_WEBHOOK_SECRET: "whsec_abc",
      STRIPE_PRICE_STARTER: "price_a",
      STRIPE_PRICE_GROWTH: "price_b",
      STRIPE_PRICE_PROFESSIONAL: "price_c",
    });
    assert.equal(ok.billing.webhookSecret, "whsec_abc");
  });

  it("a malformed key or secret is named", () => {
    assert.throws(() => loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp", STRIPE_SECRET_KEY: "pk_live_abc" }), /STRIPE_SECRET_KEY/);
    assert.throws(() => loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp", STRIPE_WEBHOOK_SECRET: "abc" }), /STRIPE_WEBHOOK_SECRET/);
  });
});
