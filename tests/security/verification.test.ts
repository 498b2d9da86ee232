// Verification lock-out and phone enumeration (issue 19, items 4 and 6): checks
// with no live code do not count against the number, the checker's address and
// session are limited, and update-phone says "taken" only to a code holder.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { count, HOUR, lastCodeFor, newPhone, wrongCode } from "../onboarding/helpers.ts";

describe("verification codes: who can be locked out", () => {
  let server: TestServer;
  // Behind a trusted loopback proxy, X-Forwarded-For names the client: two people, two addresses.
  const attacker = { "x-forwarded-for": "203.0.113.66" };
  const victim = { "x-forwarded-for": "198.51.100.7" };
  before(async () => {
    server = await startTestServer({ env: { TRUST_PROXY: "loopback" } });
  });
  after(() => server.close());
  beforeEach(() => server.clock.advance(HOUR + 1000));

  it("an anonymous stranger cannot lock a number out: checks without a live code count for nothing", async () => {
    const phone = newPhone();
    const flood = [];
    for (let i = 0; i < 101; i++) flood.push((await server.client().post("/api/verify-code", { phone, code: "000000" }, attacker)).status);
    assert.equal(await count(server, "select 1 from rate_limit_hits where bucket = $1", [`code:fail:phone:${phone}`]), 0);
    // And the stranger's address ran out long before 101.
    assert.equal(flood.filter((s) => s === 429).length, 51);
    assert.equal((await server.client().post("/api/send-code", { phone }, victim)).status, 200);
    const r = await server.client().post("/api/verify-code", { phone, code: lastCodeFor(server, phone) }, victim);
    assert.equal(r.status, 200, r.text);
  });

  it("one address is limited across many numbers", async () => {
    const replies = [];
    for (let i = 0; i < 55; i++) replies.push(await server.client().post("/api/verify-code", { phone: newPhone(), code: "123456" }, { "x-forwarded-for": "203.0.113.67" }));
    assert.deepEqual(replies.slice(0, 50).map((r) => r.body.code), Array(50).fill("code_expired"));
    assert.deepEqual(replies.slice(50).map((r) => r.status), Array(5).fill(429));
    assert.equal(replies[50]!.body.code, "rate_limited");
  });

  it("one session is limited across addresses", async () => {
    const client = server.client();
    assert.equal((await client.post("/api/auth/establish-session", {})).status, 200);
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await client.post("/api/verify-code", { phone: newPhone(), code: "123456" }, { "x-forwarded-for": `192.0.2.${i}` })).status);
    assert.deepEqual(statuses, [...Array(10).fill(400), 429, 429]);
  });

  it("a right code gives its checks back to the address", async () => {
    const ip = { "x-forwarded-for": "203.0.113.99" };
    for (let i = 0; i < 60; i++) {
      const phone = newPhone();
      assert.equal((await server.client().post("/api/send-code", { phone }, { "x-forwarded-for": `198.51.100.${100 + (i % 100)}` })).status, 200);
      const r = await server.client().post("/api/verify-code", { phone, code: lastCodeFor(server, phone) }, ip);
      assert.equal(r.status, 200, `${i}: ${r.text}`);
    }
  });

  it("wrong guesses at a live code still count against the number", async () => {
    const phone = newPhone();
    assert.equal((await server.client().post("/api/send-code", { phone }, victim)).status, 200);
    const code = lastCodeFor(server, phone);
    for (let i = 0; i < 3; i++) assert.equal((await server.client().post("/api/verify-code", { phone, code: wrongCode(code) }, attacker)).body.code, "invalid_code");
    assert.equal(await count(server, "select 1 from rate_limit_hits where bucket = $1", [`code:fail:phone:${phone}`]), 3);
  });
});

describe("update-phone does not enumerate numbers", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("a guessed number that belongs to someone else answers like any other without its code", async () => {
    const owner = await signedUpClient(server, "owner");
    const prober = await signedUpClient(server, "prober");
    const free = newPhone();
    const asTaken = await prober.client.post("/api/update-phone", { email: prober.identity.email, newPhone: owner.identity.phone, verificationCode: "123456" });
    const asFree = await prober.client.post("/api/update-phone", { email: prober.identity.email, newPhone: free, verificationCode: "123456" });
    assert.equal(asTaken.status, 400);
    assert.deepEqual([asTaken.body.code, asTaken.body.message], [asFree.body.code, asFree.body.message]);
  });

  it("probing many numbers is rate limited", async () => {
    const prober = await signedUpClient(server, "prober2");
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await prober.client.post("/api/update-phone", { email: prober.identity.email, newPhone: newPhone(), verificationCode: "123456" })).status);
    }
    // The prober's session: 10 checks an hour.
    assert.deepEqual(statuses, [...Array(10).fill(400), 429, 429]);
  });
});
