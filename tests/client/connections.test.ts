// The connection checks the React client calls (CLIENT.md §7, §9): "Enforce
// Publishing" answers connectionRepairs[] and errors[] always; /token-status's
// validate-tokens; /oauth-reconnect's test-connection; the Facebook reconnect
// URL; and connect-platforms' "Test Publishing", which must publish nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { PLATFORMS, platformConnections, posts } from "../../shared/schema.ts";
import { control, FAST_PUBLISHING, givePlan, publisher, sandboxPublished, type Publisher } from "../posts/helpers.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

const DAY = 86_400_000;

describe("connection checks for the client", () => {
  let server: TestServer;
  let sandbox: string;
  let u: Publisher;

  before(async () => {
    // A day passes in one test: the session must outlive it.
    server = await startTestServer({ env: { ...FAST_PUBLISHING, SESSION_IDLE_MINUTES: "10000" } });
    sandbox = `${server.url}/sandbox`;
    u = await publisher(server, ["x", "linkedin"], "clientchecks");
  });
  after(() => server.close());

  it("enforce-auto-posting with nothing to do still answers both arrays", async () => {
    const r = await u.client.post("/api/enforce-auto-posting", {});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.connectionRepairs, []);
    assert.deepEqual(r.body.errors, []);
    for (const k of ["success", "postsProcessed", "postsPublished", "postsFailed", "message"]) assert.ok(k in r.body, k);
  });

  it("enforce-auto-posting renews what is due (a repair) and names what needs a reconnect (an error)", async () => {
    await control(sandbox, "/revoke", { platform: "linkedin", user: "clientchecks" });
    // A day on: X's two-hour token has expired (renewable), LinkedIn's validation is stale.
    server.clock.advance(DAY + 60_000);
    const r = await u.client.post("/api/enforce-auto-posting", {});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.connectionRepairs, ["X access renewed"]);
    assert.equal(r.body.errors.length, 1);
    assert.match(r.body.errors[0], /^LinkedIn needs to be reconnected/);
    const rows = await server.deps.db.select().from(platformConnections).where(eq(platformConnections.userId, u.userId));
    const active = Object.fromEntries(rows.filter((c) => c.isActive).map((c) => [c.platform, c]));
    assert.equal(active.linkedin!.status, "needs_reconnect");
    assert.ok(active.x!.expiresAt!.getTime() > server.clock.now().getTime(), "X holds a fresh token");
  });

  it("validate-tokens reports all five platforms", async () => {
    const r = await u.client.get("/api/validate-tokens");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.success, true);
    assert.deepEqual(Object.keys(r.body.validationResults).sort(), [...PLATFORMS].sort());
    assert.deepEqual(r.body.validationResults.x, { valid: true, needsReconnection: false });
    assert.equal(r.body.validationResults.linkedin.valid, false);
    assert.equal(r.body.validationResults.linkedin.needsReconnection, true);
    assert.match(r.body.validationResults.facebook.error, /not connected/);
    assert.deepEqual(r.body.summary, { checked: 5, valid: 1, invalid: 4, needsReconnection: ["facebook", "instagram", "linkedin", "youtube"] });
  });

  it("test-connection checks one platform at the platform", async () => {
    const calls = async () => (await (await fetch(`${sandbox}/_control/calls`)).json()) as { calls: { endpoint: string }[] };
    const before = (await calls()).calls.length;
    const ok = await u.client.post("/api/test-connection", { platform: "twitter" });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual({ success: ok.body.success, platform: ok.body.platform, valid: ok.body.valid }, { success: true, platform: "x", valid: true });
    assert.ok((await calls()).calls.length > before, "the platform was asked");
    const broken = await u.client.post("/api/test-connection", { platform: "linkedin" });
    assert.equal(broken.body.success, false);
    assert.equal(broken.body.needsReconnection, true);
    const missing = await u.client.post("/api/test-connection", { platform: "youtube" });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "not_connected");
    assert.equal(missing.body.error, missing.body.message);
    const bad = await u.client.post("/api/test-connection", { platform: "myspace" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details[0].path, "platform");
  });

  it("test_publish_all publishes nothing and counts working connections", async () => {
    const published = (await sandboxPublished(sandbox)).length;
    const stored = (await server.deps.db.select().from(posts).where(eq(posts.userId, u.userId))).length;
    const r = await u.client.post("/api/direct-publish", {
      action: "test_publish_all",
      content: "OAuth Token Test - Platform Connection Verification",
      platforms: ["facebook", "instagram", "linkedin", "twitter", "youtube"],
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.summary, { successCount: 1, failureCount: 4 });
    assert.equal((await sandboxPublished(sandbox)).length, published, "nothing reached a platform");
    assert.equal((await server.deps.db.select().from(posts).where(eq(posts.userId, u.userId))).length, stored, "no post was stored");
  });

  it("reconnect/facebook gives the forced-consent URL; everything here needs a login", async () => {
    const r = await u.client.get("/api/reconnect/facebook");
    assert.deepEqual(r.body, { success: true, authUrl: "/api/auth/facebook?force_reauth=true" });
    const anon = server.client();
    for (const [m, p] of [["GET", "/api/reconnect/facebook"], ["GET", "/api/validate-tokens"], ["POST", "/api/test-connection"], ["POST", "/api/enforce-auto-posting"]] as const) {
      const x = await anon.request(m, p, m === "POST" ? { platform: "x" } : undefined);
      assert.equal(x.status, 401, p);
      assert.equal(x.body.requiresLogin, true);
    }
  });

  it("a user with no connections gets empty arrays from enforce", async () => {
    const { client } = await signedUpClient(server, "noconn");
    await givePlan(server.deps, (await client.get("/api/user")).body.id);
    const r = await client.post("/api/enforce-auto-posting", {});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.connectionRepairs, r.body.errors], [[], []]);
  });
});
