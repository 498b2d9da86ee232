// Development on loopback: a browser on either spelling of PUBLIC_URL's host
// (localhost / 127.0.0.1) can write, and its connect pages move to PUBLIC_URL
// (where OAuth redirects and cookies live); production accepts exactly
// PUBLIC_URL. Production also refuses to start without a mail transport.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { and, eq } from "drizzle-orm";
import { platformConnections } from "../../shared/schema.ts";
import { ConfigError, loadConfig } from "../../server/config.ts";
import { launchChromium, logInAndConnect, noBrowser } from "../support/browser.ts";
import { Client } from "../support/client.ts";
import { newIdentity, startTestServer, TEST_SECRETS, type TestServer } from "../support/server.ts";


describe("loopback origins in development", () => {
  let server: TestServer;
  let other: string;
  before(async () => {
    server = await startTestServer(); // PUBLIC_URL is http://127.0.0.1:<port>
    other = server.url.replace("127.0.0.1", "localhost");
  });
  after(() => server.close());

  it("accepts writes from both spellings and nothing else", async () => {
    const viaLocalhost = new Client(server.url, other);
    assert.equal((await viaLocalhost.post("/api/auth/signup", newIdentity("lo"))).status, 201);
    const viaIp = new Client(server.url, server.url);
    assert.equal((await viaIp.post("/api/auth/signup", newIdentity("ip"))).status, 201);
    for (const origin of ["http://evil.example", other.replace("http:", "https:"), other.replace(/:\d+$/, ":1")]) {
      const r = await new Client(server.url, origin).post("/api/auth/signup", newIdentity("x"));
      assert.equal(r.status, 403, origin);
      assert.equal(r.body.code, "forbidden_origin");
    }
  });

  it("sends the connect pages on the other spelling to PUBLIC_URL, query kept", async () => {
    const browserOnLocalhost = new Client(other);
    const page = await browserOnLocalhost.get("/connect?platform=x");
    assert.equal(page.status, 302);
    assert.equal(page.headers.get("location"), `${server.url}/connect?platform=x`);
    const start = await browserOnLocalhost.get("/auth/linkedin?mode=redirect");
    assert.equal(start.headers.get("location"), `${server.url}/auth/linkedin?mode=redirect`);
    // The API itself answers on both.
    assert.equal((await browserOnLocalhost.get("/api/auth/session")).status, 200);
  });

  it("in a browser opened on the other spelling: log in on /connect and connect LinkedIn", { skip: noBrowser }, async () => {
    const identity = newIdentity("brw");
    assert.equal((await new Client(server.url).post("/api/auth/signup", identity)).status, 201);
    const browser = await launchChromium();
    try {
      const landed = await logInAndConnect(browser, `${other}/connect`, identity, "linkedin");
      assert.equal(new URL(landed).origin, server.url, "moved to PUBLIC_URL");
      const user = (await new Client(server.url).post("/api/auth/login", { email: identity.email, password: identity.password })).body.user;
      const rows = await server.deps.db.select().from(platformConnections).where(and(eq(platformConnections.userId, user.id), eq(platformConnections.isActive, true)));
      assert.deepEqual(rows.map((r) => r.platform), ["linkedin"]);
    } finally {
      await browser.close();
    }
  });

  it("a wrong password on the /connect form says so", { skip: noBrowser }, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/connect`);
      await page.fill("#login input[name=email]", "nobody@example.com");
      await page.fill("#login input[name=password]", "not the password");
      await page.click("#login button[type=submit]");
      await page.waitForFunction(() => (document.getElementById("login-error")?.textContent ?? "") !== "");
      assert.equal(await page.textContent("#login-error"), "Invalid credentials");
    } finally {
      await browser.close();
    }
  });
});

describe("production settings", () => {
  const production = {
    NODE_ENV: "production",
    DATABASE_URL: "postgres://app@db.example:5432/agencyiq",
    PUBLIC_URL: "http://localhost:5000",
    PLATFORM_MODE: "sandbox",
    ALLOW_SANDBOX_IN_PRODUCTION: "true",
    ...TEST_SECRETS,
  };

  it("accepts exactly PUBLIC_URL as Origin, even on loopback", () => {
    const config = loadConfig({ ...production, SMTP_URL: "smtp://mail.example:587" });
    assert.deepEqual(config.allowedOrigins, ["http://localhost:5000"]);
    assert.deepEqual(loadConfig({ PUBLIC_URL: "http://localhost:5000", DATA_DIR: config.dataDir, ...TEST_SECRETS }).allowedOrigins, ["http://localhost:5000", "http://127.0.0.1:5000"]);
    assert.deepEqual(loadConfig({ PUBLIC_URL: "https://app.example.com", ...TEST_SECRETS }).allowedOrigins, ["https://app.example.com"]);
  });

  it("refuses to start without a mail transport unless the outbox is allowed explicitly", () => {
    assert.throws(() => loadConfig(production), (e: unknown) => e instanceof ConfigError && /SMTP_URL/.test(e.message) && /ALLOW_OUTBOX_IN_PRODUCTION=true/.test(e.message));
    assert.equal(loadConfig({ ...production, SMTP_URL: "smtp://mail.example:587" }).mail.smtpUrl, "smtp://mail.example:587");
    assert.equal(loadConfig({ ...production, ALLOW_OUTBOX_IN_PRODUCTION: "true" }).production, true);
  });
});
