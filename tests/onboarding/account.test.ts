// Phone change (needs a code sent to the new number) and cancellation
// (connections deactivated, unpublished posts removed, history kept).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { TokenVault } from "../../server/connections/vault.ts";
import { platformConnections, posts, type PostStatus } from "../../shared/schema.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { count, HOUR, lastCodeFor, newPhone, wrongCode } from "./helpers.ts";

describe("phone change", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.clock.advance(HOUR + 1000));

  async function sendTo(phone: string) {
    assert.equal((await server.client().post("/api/send-code", { phone })).status, 200);
    return lastCodeFor(server, phone);
  }

  it("changes the number with a code sent to the new number", async () => {
    const { client, identity, user } = await signedUpClient(server, "phone");
    const newNumber = newPhone();
    const code = await sendTo(newNumber);
    const r = await client.post("/api/update-phone", { email: identity.email.toUpperCase(), newPhone: newNumber, verificationCode: code });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { success: true, newPhone: newNumber });
    const row = (await server.deps.database.pool.query("select phone, phone_verified_at from users where id = $1", [user.id])).rows[0];
    assert.equal(row.phone, newNumber);
    assert.ok(row.phone_verified_at);
    const login = await server.client().post("/api/auth/login", { phone: newNumber, password: identity.password });
    assert.equal(login.status, 200);
  });

  it("a number given up by a phone change can be signed up again by someone else", async () => {
    const { client, identity } = await signedUpClient(server, "giveup");
    const code = await sendTo(newPhone());
    const moved = server.deps.sms.outbox.at(-1)!.to;
    assert.equal((await client.post("/api/update-phone", { email: identity.email, newPhone: moved, verificationCode: code })).status, 200);
    const newcomer = await server.client().post("/api/auth/signup", { email: `newcomer-${Date.now()}@example.com`, password: "another long password", phone: identity.phone });
    assert.equal(newcomer.status, 201, newcomer.text);
  });

  it("refuses a code sent to another number, a wrong code, a reused code", async () => {
    const { client, identity, user } = await signedUpClient(server, "phone");
    const target = newPhone();
    const other = newPhone();
    const otherCode = await sendTo(other);
    const noCode = await client.post("/api/update-phone", { email: identity.email, newPhone: target, verificationCode: otherCode });
    assert.equal(noCode.status, 400);
    const code = await sendTo(target);
    const wrong = await client.post("/api/update-phone", { email: identity.email, newPhone: target, verificationCode: wrongCode(code) });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.code, "invalid_code");
    assert.equal((await server.deps.database.pool.query("select phone from users where id = $1", [user.id])).rows[0].phone, identity.phone);
    assert.equal((await client.post("/api/update-phone", { email: identity.email, newPhone: target, verificationCode: code })).status, 200);
    const reused = await client.post("/api/update-phone", { email: identity.email, newPhone: newPhone(), verificationCode: code });
    assert.equal(reused.status, 400);
  });

  it("a taken number is 409 only for the holder of its code; bad input is 400; anonymous is 401", async () => {
    const a = await signedUpClient(server, "phoneA");
    const b = await signedUpClient(server, "phoneB");
    // b proves its number (an unverified one would be lost to a's verified claim: README "The React client").
    assert.equal((await b.client.post("/api/verify-code", { phone: b.identity.phone, code: await sendTo(b.identity.phone) })).status, 200);
    // Without a code for the number, or with a wrong one, nothing says the number is taken.
    const guess = await a.client.post("/api/update-phone", { email: a.identity.email, newPhone: b.identity.phone, verificationCode: "123456" });
    assert.equal(guess.status, 400);
    assert.equal(guess.body.code, "code_expired");
    const code = await sendTo(b.identity.phone);
    const wrong = await a.client.post("/api/update-phone", { email: a.identity.email, newPhone: b.identity.phone, verificationCode: wrongCode(code) });
    assert.equal(wrong.body.code, "invalid_code");
    // Whoever holds the number's code may learn it belongs to another account.
    const taken = await a.client.post("/api/update-phone", { email: a.identity.email, newPhone: b.identity.phone, verificationCode: code });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.code, "phone_taken");

    const target = newPhone();
    const c2 = await sendTo(target);
    const mismatch = await a.client.post("/api/update-phone", { email: b.identity.email, newPhone: target, verificationCode: c2 });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.code, "email_mismatch");
    for (const body of [
      { email: a.identity.email, newPhone: "0400", verificationCode: c2 },
      { email: "nope", newPhone: target, verificationCode: c2 },
      { email: a.identity.email, newPhone: target, verificationCode: "abc" },
      { email: a.identity.email, newPhone: target },
    ]) {
      const r = await a.client.post("/api/update-phone", body);
      assert.equal(r.status, 400, r.text);
      assert.ok(r.body.details.length);
    }
    const anon = await server.client().post("/api/update-phone", { email: a.identity.email, newPhone: target, verificationCode: c2 });
    assert.equal(anon.status, 401);
    assert.equal(anon.body.requiresLogin, true);
    assert.equal((await server.deps.database.pool.query("select phone from users where id = $1", [a.user.id])).rows[0].phone, a.identity.phone);
    // The code survived all of the refusals above.
    assert.equal((await a.client.post("/api/update-phone", { email: a.identity.email, newPhone: target, verificationCode: c2 })).status, 200);
  });
});

describe("cancellation", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  const secrets = (userId: number) => ({ access: `at-secret-${userId}-x9q`, refresh: `rt-secret-${userId}-k3z` });

  async function seed(userId: number) {
    const db = server.deps.db;
    const vault = new TokenVault(server.deps.config.tokens);
    const s = secrets(userId);
    // LinkedIn and X have a revoke endpoint, Facebook has none.
    for (const platform of ["facebook", "linkedin", "x"] as const) {
      const row = { userId, platform };
      await db.insert(platformConnections).values({
        userId,
        platform,
        platformUserId: `${platform}-${userId}`,
        accessToken: vault.seal(s.access, row, "access_token"),
        refreshToken: vault.seal(s.refresh, row, "refresh_token"),
        tokenKeyVersion: vault.currentVersion,
      });
    }
    const statuses: PostStatus[] = ["draft", "approved", "failed", "paused", "published", "publishing", "unknown"];
    for (const status of statuses) await db.insert(posts).values({ userId, platform: "facebook", content: `a ${status} post`, status });
  }

  it("deactivates connections, deletes unpublished posts, keeps history, reports counts", async () => {
    const { client, user } = await signedUpClient(server, "cancel");
    const bystander = await signedUpClient(server, "keep");
    await seed(user.id);
    await seed(bystander.user.id);
    await server.deps.database.pool.query("update users set subscription_active = true, subscription_plan = 'growth' where id = $1", [user.id]);

    const r = await client.post("/api/cancel-subscription", {});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.summary, { platformConnectionsRevoked: 3, postsDeleted: 4 });
    // Revocation at the platforms was attempted where an endpoint exists; its
    // outcome depends on the platform (sandbox) being reachable, the tokens never reach the log.
    const line = server.logs.find((l) => l.msg === "Subscription cancelled" && l.userId === user.id) as any;
    assert.equal(line.atPlatforms.unsupported, 1);
    assert.equal(line.atPlatforms.revoked + line.atPlatforms.failed, 2);
    assert.ok(!server.rawLog().includes(secrets(user.id).access) && !server.rawLog().includes(secrets(user.id).refresh));
    const pool = server.deps.database.pool;
    const conns = (await pool.query("select is_active, status from platform_connections where user_id = $1", [user.id])).rows;
    assert.ok(conns.every((c) => c.is_active === false && c.status === "disconnected"));
    const left = (await pool.query("select status from posts where user_id = $1 order by status", [user.id])).rows.map((p) => p.status);
    assert.deepEqual(left.sort(), ["published", "publishing", "unknown"]);
    assert.equal((await pool.query("select subscription_active from users where id = $1", [user.id])).rows[0].subscription_active, false);
    // Another user's data is untouched.
    assert.equal(await count(server, "select 1 from posts where user_id = $1", [bystander.user.id]), 7);
    assert.equal(await count(server, "select 1 from platform_connections where user_id = $1 and is_active", [bystander.user.id]), 3);

    const again = await client.post("/api/cancel-subscription", {});
    assert.deepEqual(again.body.summary, { platformConnectionsRevoked: 0, postsDeleted: 0 });
    const status = await client.get("/api/user-status");
    assert.equal(status.body.hasActiveSubscription, false);
    assert.equal(status.body.hasConnections, false);
  });

  it("needs a logged-in user and an empty body", async () => {
    assert.equal((await server.client().post("/api/cancel-subscription", {})).status, 401);
    const { client } = await signedUpClient(server, "cancel2");
    const r = await client.post("/api/cancel-subscription", { userId: 1 });
    assert.equal(r.status, 400);
  });
});
