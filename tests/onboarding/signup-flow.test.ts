// With phone verification on (as in production): signup needs a code
// verified within the hour, and a new user goes from phone number to an
// active plan through the API alone.
import assert from "node:assert/strict";
import type { Client } from "../support/client.ts";
import { after, before, describe, it } from "node:test";
import { createCertificates } from "../../server/onboarding/gift-service.ts";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";
import { count, HOUR, lastCodeFor } from "./helpers.ts";

describe("signup with phone verification", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { REQUIRE_PHONE_VERIFICATION: "true" } });
  });
  after(async () => {
    await server.close();
  });

  /** Verifies the phone in this client's session (the proof signup asks for). */
  async function verifyPhone(client: Client, phone: string) {
    assert.equal((await client.post("/api/send-code", { phone })).status, 200);
    const r = await client.post("/api/verify-code", { phone, code: lastCodeFor(server, phone) });
    assert.equal(r.status, 200, r.text);
  }

  it("refuses an unverified phone, a sent-but-unverified phone, another phone's verification", async () => {
    const users = await count(server, "select 1 from users");
    const id = newIdentity("unverified");
    const r = await server.client().post("/api/auth/signup", id);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "phone_not_verified");
    await server.client().post("/api/send-code", { phone: id.phone });
    assert.equal((await server.client().post("/api/auth/signup", id)).status, 400);
    const other = newIdentity("other");
    const c = server.client();
    await verifyPhone(c, other.phone);
    assert.equal((await c.post("/api/auth/signup", id)).status, 400);
    assert.equal(await count(server, "select 1 from users"), users, "nothing written");
  });

  it("accepts a phone verified within the hour, not one verified longer ago", async () => {
    const id = newIdentity("verified");
    const c = server.client();
    await verifyPhone(c, id.phone);
    const ok = await c.post("/api/auth/signup", id);
    assert.equal(ok.status, 201, ok.text);

    const late = newIdentity("late");
    const c2 = server.client();
    await verifyPhone(c2, late.phone);
    server.clock.advance(HOUR + 1000);
    const r = await c2.post("/api/auth/signup", late);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "phone_not_verified");
  });

  it("a verification made in another session does not let anybody else sign up with the number", async () => {
    const id = newIdentity("squat");
    const owner = server.client();
    await verifyPhone(owner, id.phone);
    const squatter = await server.client().post("/api/auth/signup", { ...id, email: "squatter@example.com" });
    assert.equal(squatter.status, 400);
    assert.equal(squatter.body.code, "phone_not_verified");
    assert.equal((await owner.post("/api/auth/signup", id)).status, 201);
  });

  it("malformed phones and emails are 400s naming the field; nothing written", async () => {
    const users = await count(server, "select 1 from users");
    const id = newIdentity("bad");
    for (const [body, field] of [
      [{ ...id, phone: "0412 345 678" }, "phone"],
      [{ ...id, phone: "+61-abc" }, "phone"],
      [{ ...id, email: "no-at-sign" }, "email"],
      [{ ...id, email: "a@b" }, "email"],
      [{ ...id, email: `${"x".repeat(250)}@example.com` }, "email"],
    ] as const) {
      const r = await server.client().post("/api/auth/signup", body);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.details[0].path, field);
    }
    assert.equal(await count(server, "select 1 from users"), users);
  });

  it("from phone number to an active plan: send-code, verify-code, redeem with a new account", async () => {
    const [code] = await createCertificates(server.deps.db, { plan: "growth", createdFor: "Flow", count: 1, now: server.clock.now() });
    const id = newIdentity("flow");
    const c = server.client();
    // Unverified phone: the account is refused and the certificate stays unused.
    const early = await c.post("/api/redeem-gift-certificate", { code, ...id });
    assert.equal(early.status, 400);
    assert.equal(early.body.code, "phone_not_verified");
    assert.equal((await server.deps.database.pool.query("select is_used from gift_certificates where created_for = 'Flow'")).rows[0].is_used, false);

    assert.equal((await c.post("/api/send-code", { phone: id.phone })).status, 200);
    assert.equal((await c.post("/api/verify-code", { phone: id.phone, code: lastCodeFor(server, id.phone) })).status, 200);
    const r = await c.post("/api/redeem-gift-certificate", { code, ...id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.plan, "growth");
    assert.equal(r.body.user.remainingPosts, 27);
    const status = await c.get("/api/user-status");
    assert.equal(status.body.hasActiveSubscription, true);
  });
});
