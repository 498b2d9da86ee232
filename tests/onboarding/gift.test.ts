// Gift certificates: creation, redemption for a logged-in user or a new
// account, 50 parallel redemptions of one code, the action log, rate limits,
// and that a refused redemption writes nothing but its log row.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createCertificates, GIFT_LIMITS } from "../../server/onboarding/gift-service.ts";
import { newIdentity, signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { count, HOUR } from "./helpers.ts";

const CODE_SHAPE = /^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$/;

describe("gift certificates", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.clock.advance(HOUR + 1000));

  const create = (plan: "starter" | "growth" | "professional" = "professional", n = 1) =>
    createCertificates(server.deps.db, { plan, createdFor: "Test client", count: n, now: server.clock.now() });
  const logRows = async (hint: string) =>
    (await server.deps.database.pool.query("select * from gift_certificate_action_log where code_hint = $1 order by id", [hint])).rows;

  it("creates readable 128+-bit codes and stores only their hash and hint", async () => {
    const codes = await create("growth", 3);
    assert.equal(new Set(codes).size, 3);
    for (const code of codes) {
      assert.match(code, CODE_SHAPE);
      const canonical = code.replace(/-/g, "");
      const rows = (await server.deps.database.pool.query("select * from gift_certificates where code_hint = $1", [canonical.slice(-4)])).rows;
      const row = rows.find((r) => r.created_for === "Test client" && r.plan === "growth");
      assert.ok(row);
      assert.match(row.code_hash, /^[0-9a-f]{64}$/);
      assert.ok(!JSON.stringify(rows).includes(canonical), "the code itself is not stored");
    }
  });

  it("a logged-in user redeems for itself: plan granted, session renewed, attempt logged", async () => {
    const [code] = await create("professional");
    const { client, user } = await signedUpClient(server, "gift");
    const cookieBefore = client.cookieHeader;
    const r = await client.post("/api/redeem-gift-certificate", { code: code!.toLowerCase() }, { "user-agent": "gift-test/1" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.plan, "professional");
    assert.equal(r.body.user.remainingPosts, 52);
    assert.equal(r.body.user.subscriptionActive, true);
    assert.equal(r.body.user.id, user.id);
    assert.ok(!r.text.includes(code!.replace(/-/g, "").slice(0, 8)), "the code is not echoed back");
    assert.match(r.body.certificateCode, new RegExp(`${code!.slice(-4)}$`));
    assert.notEqual(client.cookieHeader, cookieBefore, "a new session id after the privilege change");
    const me = await client.get("/api/user");
    assert.equal(me.body.subscriptionPlan, "professional");

    const db = server.deps.database.pool;
    const u = (await db.query("select subscription_active, subscription_source, subscription_start from users where id = $1", [user.id])).rows[0];
    assert.equal(u.subscription_active, true);
    assert.equal(u.subscription_source, "certificate");
    assert.equal(new Date(u.subscription_start).getTime(), server.clock.now().getTime());
    assert.equal((await db.query("select quota from post_ledger where user_id = $1", [user.id])).rows[0].quota, 52);
    assert.equal(await count(server, "select 1 from quota_history where user_id = $1", [user.id]), 1);
    const cert = (await db.query("select * from gift_certificates where code_hint = $1 and is_used", [code!.slice(-4)])).rows[0];
    assert.equal(cert.redeemed_by, user.id);
    const log = await logRows(code!.slice(-4));
    assert.equal(log.length, 1);
    assert.equal(log[0].outcome, "redeemed");
    assert.equal(log[0].certificate_id, cert.id);
    assert.equal(log[0].user_id, user.id);
    assert.equal(log[0].user_agent, "gift-test/1");
    assert.ok(log[0].ip);

    const again = await client.post("/api/redeem-gift-certificate", { code });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, "certificate_already_used");
    assert.match(again.body.message, /already been used/);
    assert.equal((await logRows(code!.slice(-4)))[1].outcome, "already_used");
  });

  it("without a session, email + password + phone create the account and log it in", async () => {
    const [code] = await create("starter");
    const id = newIdentity("giftnew");
    const c = server.client();
    const r = await c.post("/api/redeem-gift-certificate", { code, ...id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.plan, "starter");
    assert.equal(r.body.user.remainingPosts, 12);
    assert.equal(r.body.user.email, id.email);
    const me = await c.get("/api/user");
    assert.equal(me.status, 200);
    assert.equal(me.body.subscriptionActive, true);
    const login = await server.client().post("/api/auth/login", { email: id.email, password: id.password });
    assert.equal(login.status, 200);
    const log = await logRows(code!.slice(-4));
    assert.equal(log[0].user_id, me.body.id);
  });

  it("refusals are clear 4xx, logged, and write nothing else", async () => {
    const [code] = await create("growth");
    const hint = code!.slice(-4);
    const taken = await signedUpClient(server, "taken");
    const users = await count(server, "select 1 from users");
    const cases: [unknown, number, string][] = [
      [{ code }, 400, "account_details_missing"],
      [{ code, email: "new@example.com", password: "long enough pw" }, 400, "account_details_missing"],
      [{ code, ...newIdentity("dup"), email: taken.identity.email }, 409, "email_taken"],
      [{ code, ...newIdentity("dup"), phone: taken.identity.phone }, 409, "phone_taken"],
    ];
    for (const [body, status, errorCode] of cases) {
      const r = await server.client().post("/api/redeem-gift-certificate", body);
      assert.equal(r.status, status, r.text);
      assert.equal(r.body.code, errorCode);
    }
    // Invalid bodies: 400 naming the field, before any attempt.
    for (const body of [{}, { code, email: "not-an-email", password: "long enough pw", phone: "+61400000001" }, { code, phone: "123" }, { code, password: "short" }]) {
      const r = await server.client().post("/api/redeem-gift-certificate", body);
      assert.equal(r.status, 400, r.text);
      assert.ok(r.body.details.length > 0);
    }
    assert.equal(await count(server, "select 1 from users"), users, "no account half-created");
    const cert = (await server.deps.database.pool.query("select is_used, redeemed_by from gift_certificates where code_hint = $1", [hint])).rows[0];
    assert.deepEqual(cert, { is_used: false, redeemed_by: null });
    const log = await logRows(hint);
    assert.deepEqual(log.map((l) => l.outcome), ["account_details_missing", "account_details_missing", "account_refused:email_taken", "account_refused:phone_taken"]);

    // Unknown and malformed codes: 400, logged with no certificate.
    const before = await count(server, "select 1 from gift_certificate_action_log where certificate_id is null");
    const unknown = await taken.client.post("/api/redeem-gift-certificate", { code: "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ" });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.code, "invalid_certificate");
    const malformed = await taken.client.post("/api/redeem-gift-certificate", { code: "hello" });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, "invalid_certificate");
    assert.equal(await count(server, "select 1 from gift_certificate_action_log where certificate_id is null"), before + 2);
    const me = await taken.client.get("/api/user");
    assert.equal(me.body.subscriptionActive, false);
  });

  it("50 parallel redemptions of one code: exactly one succeeds, 50 log rows", async () => {
    const [code] = await create("professional");
    const ids = Array.from({ length: 50 }, () => newIdentity("race"));
    const users = await count(server, "select 1 from users");
    const replies = await Promise.all(ids.map((id) => server.client().post("/api/redeem-gift-certificate", { code, ...id })));
    const ok = replies.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, replies.map((r) => r.status).join(","));
    const others = replies.filter((r) => r.status !== 200);
    assert.ok(others.every((r) => r.status === 400 && r.body.code === "certificate_already_used"));
    assert.equal(await count(server, "select 1 from users"), users + 1, "only the winner's account exists");
    const log = await logRows(code!.slice(-4));
    assert.equal(log.length, 50);
    assert.equal(log.filter((l) => l.outcome === "redeemed").length, 1);
    assert.equal(log.filter((l) => l.outcome === "already_used").length, 49);
    assert.ok(log.every((l) => l.certificate_id !== null));
    assert.ok(!server.rawLog().includes(code!) && !server.rawLog().includes(code!.replace(/-/g, "")), "the code is never logged");
  });

  it("attempts are limited per IP and per account, and the refusals are logged", async () => {
    const { client } = await signedUpClient(server, "limit");
    const unknown = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-YYYY";
    const perAccount = [];
    for (let i = 0; i < GIFT_LIMITS.perAccount.max + 1; i++) perAccount.push(await client.post("/api/redeem-gift-certificate", { code: unknown }));
    assert.equal(perAccount.at(-1)!.status, 429);
    assert.ok(perAccount.slice(0, -1).every((r) => r.status === 400));

    server.clock.advance(HOUR + 1000);
    const anon = await Promise.all(
      Array.from({ length: GIFT_LIMITS.perIp.max + 5 }, (_, i) =>
        server.client().post("/api/redeem-gift-certificate", { code: unknown, ...newIdentity(`ip${i}`) }),
      ),
    );
    assert.equal(anon.filter((r) => r.status === 429).length, 5);
    const [code] = await create("starter");
    const blocked = await server.client().post("/api/redeem-gift-certificate", { code, ...newIdentity("blocked") });
    assert.equal(blocked.status, 429);
    assert.equal((await server.deps.database.pool.query("select is_used from gift_certificates where code_hint = $1", [code!.slice(-4)])).rows[0].is_used, false);
    assert.equal(await count(server, "select 1 from gift_certificate_action_log where outcome = 'rate_limited'"), 7);
  });
});
