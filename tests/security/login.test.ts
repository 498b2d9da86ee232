// The per-account login limit (issue 19, item 7): one bucket per account
// whether it is named by email or phone, and the owner's known browser still
// gets in while a stranger's failures lock out everyone else (device cookies).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { newIdentity, signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { until } from "../client/helpers.ts";

describe("login limit keyed on the account", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());
  // Fresh 15-minute windows (and the per-IP limit) for every test.
  beforeEach(() => server.clock.advance(16 * 60 * 1000));

  const login = (client: ReturnType<TestServer["client"]>, body: object) => client.post("/api/auth/login", body);

  it("email and phone share one bucket: 10 failures in all, then 429", async () => {
    const { identity } = await signedUpClient(server, "both");
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      const by = i % 2 ? { phone: identity.phone } : { email: identity.email };
      statuses.push((await login(server.client(), { ...by, password: `wrong ${i}` })).status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    // A browser the account does not know is locked out, even with the right password.
    assert.equal((await login(server.client(), { phone: identity.phone, password: identity.password })).status, 429);
  });

  it("the owner's known browser still gets in after a stranger locked the account", async () => {
    const { client: owner, identity } = await signedUpClient(server, "owner");
    assert.equal((await login(owner, { email: identity.email, password: identity.password })).status, 200);
    assert.ok(owner.cookies.has("aiq.device"));
    assert.equal((await owner.post("/api/auth/logout", {})).status, 200);
    for (let i = 0; i < 12; i++) await login(server.client(), { email: identity.email, password: `guess ${i}` });
    assert.equal((await login(server.client(), { email: identity.email, password: identity.password })).status, 429);

    const back = await login(owner, { phone: identity.phone, password: identity.password });
    assert.equal(back.status, 200, back.text);
    assert.equal((await owner.get("/api/user")).body.email, identity.email);
  });

  it("a known browser has its own limit, and its cookie is worth nothing for another account or forged", async () => {
    const victim = await signedUpClient(server, "victim");
    const attacker = await signedUpClient(server, "attacker");
    assert.equal((await login(attacker.client, { email: attacker.identity.email, password: attacker.identity.password })).status, 200);
    const device = attacker.client.cookies.get("aiq.device")!;
    // The attacker's own device cookie does not open a fresh bucket on the victim's account.
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await login(attacker.client, { email: victim.identity.email, password: `guess ${i}` })).status);
    assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
    // Nor does one forged for the victim's id.
    const forged = server.client();
    forged.cookies.set("aiq.device", device.replace(/^\d+/, String(victim.user.id)));
    assert.equal((await login(forged, { email: victim.identity.email, password: victim.identity.password })).status, 429);
    // A stolen real device cookie still allows only 10 guesses.
    const own = [];
    for (let i = 0; i < 11; i++) own.push((await login(attacker.client, { email: attacker.identity.email, password: `oops ${i}` })).status);
    assert.deepEqual(own, [...Array(10).fill(401), 429]);
  });

  it("an unknown account answers exactly like a known one", async () => {
    const { identity } = await signedUpClient(server, "same");
    const ghost = newIdentity("ghost");
    const replies = [];
    for (let i = 0; i < 11; i++) replies.push(await login(server.client(), { email: identity.email, password: "wrong" }));
    const ghosts = [];
    for (let i = 0; i < 11; i++) ghosts.push(await login(server.client(), { email: ghost.email, password: "wrong" }));
    // Each answer names its own request (requestId); everything else is the same.
    const shape = (r: { status: number; body: Record<string, unknown> }) => [r.status, { ...r.body, requestId: undefined }];
    assert.deepEqual(replies.map(shape), ghosts.map(shape));
  });

  it("a password reset ends the lock-out for new browsers too", async () => {
    const { identity } = await signedUpClient(server, "reset");
    for (let i = 0; i < 10; i++) await login(server.client(), { email: identity.email, password: `guess ${i}` });
    assert.equal((await login(server.client(), { email: identity.email, password: identity.password })).status, 429);
    const mails = () => server.deps.mailer.outbox.filter((m) => m.to === identity.email);
    assert.equal((await server.client().post("/api/forgot-password", { email: identity.email, phone: identity.phone })).status, 200);
    const mail = await until("the reset e-mail", () => mails()[0]);
    const token = new URL(/https?:\/\/\S+/.exec(mail.text)![0]).searchParams.get("token");
    const reset = await server.client().post("/api/reset-password", { token, email: identity.email, password: "a brand new password" });
    assert.equal(reset.status, 200, reset.text);
    assert.equal((await login(server.client(), { email: identity.email, password: "a brand new password" })).status, 200);
  });

  it("the device cookie is HttpOnly, SameSite=Lax and sent only to /api/auth", async () => {
    const { client, identity } = await signedUpClient(server, "cookie");
    const r = await login(client, { email: identity.email, password: identity.password });
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith("aiq.device="))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.match(cookie, /Path=\/api\/auth/i);
  });
});
