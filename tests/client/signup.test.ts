// Signup and redemption as the React client does them: no send-code /
// verify-code first (CLIENT.md §2), the redeem form's empty phone sent as "".
// An unverified number holds only until somebody proves it with a code: a
// later verified claim (signup or phone change) takes it, the loser keeps its
// account (e-mail login) and is told.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createCertificates } from "../../server/onboarding/gift-service.ts";
import type { Client } from "../support/client.ts";
import { newIdentity, signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { lastCodeFor } from "../onboarding/helpers.ts";

describe("signup without a prior verification (the client's way)", () => {
  let server: TestServer;
  before(async () => {
    // The default configuration, as a fresh deployment runs it.
    server = await startTestServer({ env: { REQUIRE_PHONE_VERIFICATION: undefined } });
  });
  after(() => server.close());

  const userRow = async (id: number) =>
    (await server.deps.database.pool.query("select phone, phone_verified_at from users where id = $1", [id])).rows[0] as { phone: string | null; phone_verified_at: Date | null };

  async function verifyIn(client: Client, phone: string) {
    assert.equal((await client.post("/api/send-code", { phone })).status, 200);
    const r = await client.post("/api/verify-code", { phone, code: lastCodeFor(server, phone) });
    assert.equal(r.status, 200, r.text);
  }

  it("the signup form alone creates an account with an unverified phone, logged in, that can log in by phone", async () => {
    const id = newIdentity("plain");
    const c = server.client();
    const r = await c.post("/api/auth/signup", id);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.user.phoneVerified, false);
    assert.equal((await userRow(r.body.user.id)).phone_verified_at, null);
    assert.equal((await c.get("/api/user")).body.email, id.email);
    const login = await server.client().post("/api/auth/login", { phone: id.phone, password: id.password });
    assert.equal(login.status, 200, login.text);
  });

  it("an unverified signup cannot take a number somebody already holds", async () => {
    const first = await signedUpClient(server, "holder");
    const r = await server.client().post("/api/auth/signup", { ...newIdentity("second"), phone: first.identity.phone });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, "phone_taken");
    assert.equal(r.body.error, r.body.message);
    assert.equal((await userRow(first.user.id)).phone, first.identity.phone);
  });

  it("a later VERIFIED signup of the same number wins over the unverified holder", async () => {
    const squatter = await signedUpClient(server, "squatter");
    const owner = server.client();
    await verifyIn(owner, squatter.identity.phone);
    const ownerId = { ...newIdentity("owner"), phone: squatter.identity.phone, password: "the owner's own password" };
    const r = await owner.post("/api/auth/signup", ownerId);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.user.phoneVerified, true);
    assert.ok((await userRow(r.body.user.id)).phone_verified_at);
    // The unverified holder lost the number, keeps its account and is told.
    assert.equal((await userRow(squatter.user.id)).phone, null);
    assert.ok(server.deps.mailer.outbox.some((m) => m.to === squatter.identity.email && /phone number was removed/.test(m.subject)));
    // Phone login now reaches the owner only; the old holder logs in by e-mail.
    assert.equal((await server.client().post("/api/auth/login", { phone: ownerId.phone, password: squatter.identity.password })).status, 401);
    assert.equal((await server.client().post("/api/auth/login", { phone: ownerId.phone, password: ownerId.password })).body.user.id, r.body.user.id);
    assert.equal((await server.client().post("/api/auth/login", { email: squatter.identity.email, password: squatter.identity.password })).status, 200);
    assert.equal((await squatter.client.get("/api/user")).body.phone, null);
  });

  it("a verified holder is never displaced, by a signup or a verified one", async () => {
    const holder = server.client();
    const id = newIdentity("proven");
    await verifyIn(holder, id.phone);
    assert.equal((await holder.post("/api/auth/signup", id)).status, 201);
    const plain = await server.client().post("/api/auth/signup", { ...newIdentity("late1"), phone: id.phone });
    assert.equal(plain.status, 409);
    const claimant = server.client();
    await verifyIn(claimant, id.phone);
    const verified = await claimant.post("/api/auth/signup", { ...newIdentity("late2"), phone: id.phone });
    assert.equal(verified.status, 409);
    assert.equal(verified.body.code, "phone_taken");
  });

  it("a phone change with a code also takes a number from an unverified holder", async () => {
    const squatter = await signedUpClient(server, "sq2");
    const mover = await signedUpClient(server, "mover");
    assert.equal((await mover.client.post("/api/send-code", { phone: squatter.identity.phone })).status, 200);
    const r = await mover.client.post("/api/update-phone", {
      email: mover.identity.email,
      newPhone: squatter.identity.phone,
      verificationCode: lastCodeFor(server, squatter.identity.phone),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((await userRow(mover.user.id)).phone, squatter.identity.phone);
    assert.equal((await userRow(squatter.user.id)).phone, null);
  });

  it("a logged-in user who verifies its own number becomes verified, and keeps it against claims", async () => {
    const u = await signedUpClient(server, "selfverify");
    await verifyIn(u.client, u.identity.phone);
    assert.equal((await u.client.get("/api/user")).body.phoneVerified, true);
    const claimant = server.client();
    await verifyIn(claimant, u.identity.phone);
    assert.equal((await claimant.post("/api/auth/signup", { ...newIdentity("claim"), phone: u.identity.phone })).status, 409);
  });
});

describe("redeeming a certificate as the redeem form sends it", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { REQUIRE_PHONE_VERIFICATION: undefined } });
  });
  after(() => server.close());

  const newCode = async () => (await createCertificates(server.deps.db, { plan: "growth", createdFor: "client test", count: 1, now: server.clock.now() }))[0]!;

  it("a new customer redeems with email, password and phone: account created unverified, plan granted, logged in", async () => {
    const id = newIdentity("redeemer");
    const c = server.client();
    const r = await c.post("/api/redeem-gift-certificate", { code: (await newCode()).toUpperCase(), ...id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.plan, "growth");
    assert.equal(typeof r.body.user.remainingPosts, "number");
    assert.equal(r.body.user.remainingPosts, server.deps.config.plans.growth);
    assert.equal(r.body.user.phoneVerified, false);
    assert.equal((await c.get("/api/user")).body.subscriptionPlan, "growth");
  });

  it('the empty phone "" is absent: a new customer is told to give a phone, in words', async () => {
    const r = await server.client().post("/api/redeem-gift-certificate", { code: await newCode(), ...newIdentity("nophone"), phone: "" });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "account_details_missing");
    assert.equal(typeof r.body.error, "string");
    assert.match(r.body.error, /phone/);
    assert.deepEqual(r.body.details.map((d: { path: string }) => d.path), ["phone"]);
  });

  it("a logged-in redeemer needs none of the form's email, password or phone (whatever they hold)", async () => {
    const u = await signedUpClient(server, "loggedin");
    const r = await u.client.post("/api/redeem-gift-certificate", { code: await newCode(), email: "typed@elsewhere", password: "short", phone: "" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.user.id, u.user.id);
    assert.equal(r.body.user.email, u.identity.email);
    assert.equal(r.body.user.remainingPosts, server.deps.config.plans.growth);
  });
});
