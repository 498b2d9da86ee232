// Verification codes: send, check, expiry, reuse, wrong codes, another phone,
// brute force (per-code attempts, per-phone hourly sends, per-phone daily
// failures), parallel requests, malformed input.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { codesSentTo, count, HOUR, lastCodeFor, newPhone, wrongCode } from "./helpers.ts";

describe("verification codes", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });
  // Every test starts with fresh hourly windows (per-IP send limit).
  beforeEach(() => server.clock.advance(HOUR + 1000));

  async function send(phone: string) {
    const r = await server.client().post("/api/send-code", { phone });
    assert.equal(r.status, 200, r.text);
    return lastCodeFor(server, phone);
  }
  const verify = (phone: string, code: string) => server.client().post("/api/verify-code", { phone, code });

  it("sends six digits by SMS, stores only a hash, verifies once", async () => {
    const phone = newPhone();
    const r = await server.client().post("/api/send-code", { phone });
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.equal(typeof r.body.message, "string");
    const code = lastCodeFor(server, phone);
    assert.match(code, /^\d{6}$/);
    assert.ok(!r.text.includes(code), "the code is never in a response");
    const rows = await server.deps.database.pool.query("select code_hash, attempts from verification_codes where phone = $1", [phone]);
    assert.equal(rows.rows.length, 1);
    assert.match(rows.rows[0].code_hash, /^[0-9a-f]{64}$/);
    assert.ok(!rows.rows[0].code_hash.includes(code));

    const ok = await verify(phone, code);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body, { success: true });
    const verified = await server.deps.database.pool.query("select verified_at, consumed_at from verification_codes where phone = $1", [phone]);
    assert.ok(verified.rows[0].verified_at && verified.rows[0].consumed_at);

    const again = await verify(phone, code);
    assert.equal(again.status, 400);
    assert.equal(again.body.code, "code_expired");
    assert.match(again.body.message, /^Invalid code/);
    assert.ok(!server.rawLog().includes(code), "the code is never logged");
  });

  it("accepts the seed's /verify-code path and normalises phone formats", async () => {
    const phone = newPhone();
    const spaced = `${phone.slice(0, 3)} ${phone.slice(3, 6)}-${phone.slice(6)}`;
    const r = await server.client().post("/api/send-code", { phone: spaced });
    assert.equal(r.status, 200);
    const code = lastCodeFor(server, phone);
    const ok = await server.client().post("/verify-code", { phone: `00${phone.slice(1)}`, code });
    assert.equal(ok.status, 200, ok.text);
  });

  it("refuses a wrong code with 400 'Invalid code', then accepts the right one", async () => {
    const phone = newPhone();
    const code = await send(phone);
    const bad = await verify(phone, wrongCode(code));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, "Invalid code");
    assert.equal(bad.body.code, "invalid_code");
    assert.equal((await verify(phone, code)).status, 200);
  });

  it("refuses an expired code (10-minute life)", async () => {
    const phone = newPhone();
    const code = await send(phone);
    server.clock.advance(10 * 60 * 1000 + 1);
    const r = await verify(phone, code);
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "code_expired");
  });

  it("a new send supersedes the previous code", async () => {
    const phone = newPhone();
    const first = await send(phone);
    const second = await send(phone);
    if (first !== second) assert.equal((await verify(phone, first)).status, 400);
    assert.equal((await verify(phone, second)).status, 200);
  });

  it("a code sent to one phone does not verify another", async () => {
    const a = newPhone();
    const b = newPhone();
    const codeA = await send(a);
    const none = await verify(b, codeA);
    assert.equal(none.status, 400);
    assert.equal(none.body.code, "code_expired");
    const codeB = await send(b);
    if (codeA !== codeB) {
      const wrong = await verify(b, codeA);
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.code, "invalid_code");
    }
    assert.equal((await verify(a, codeA)).status, 200);
  });

  it("brute force: the 6th check of a code fails even with the right code", async () => {
    const phone = newPhone();
    const code = await send(phone);
    for (let i = 0; i < 5; i++) assert.equal((await verify(phone, wrongCode(code))).status, 400);
    const sixth = await verify(phone, code);
    assert.equal(sixth.status, 429);
    assert.equal(sixth.body.code, "too_many_attempts");
    const row = await server.deps.database.pool.query("select attempts, verified_at from verification_codes where phone = $1", [phone]);
    assert.equal(row.rows[0].attempts, 5);
    assert.equal(row.rows[0].verified_at, null);
  });

  it("parallel checks cannot exceed 5 attempts nor verify a code twice", async () => {
    const phone = newPhone();
    const code = await send(phone);
    const wrong = await Promise.all(Array.from({ length: 20 }, () => verify(phone, wrongCode(code))));
    assert.equal(wrong.filter((r) => r.status === 400).length, 5);
    assert.equal(wrong.filter((r) => r.status === 429).length, 15);
    assert.equal((await verify(phone, code)).status, 429);

    const phone2 = newPhone();
    const code2 = await send(phone2);
    const right = await Promise.all(Array.from({ length: 10 }, () => verify(phone2, code2)));
    assert.equal(right.filter((r) => r.status === 200).length, 1);
    assert.equal(right.filter((r) => r.status === 400).length, 9);
  });

  it("at most 5 sends per phone per hour, also under parallel requests", async () => {
    const phone = newPhone();
    const replies = await Promise.all(Array.from({ length: 10 }, () => server.client().post("/api/send-code", { phone })));
    assert.equal(replies.filter((r) => r.status === 200).length, 5);
    const refused = replies.filter((r) => r.status === 429);
    assert.equal(refused.length, 5);
    assert.equal(refused[0]!.body.code, "rate_limited");
    assert.ok(refused[0]!.headers.get("retry-after"));
    assert.equal(codesSentTo(server, phone).length, 5);
    server.clock.advance(HOUR + 1000);
    assert.equal((await server.client().post("/api/send-code", { phone })).status, 200);
  });

  it("at most 100 failed checks per phone per day, then even a right code is refused", async () => {
    const phone = newPhone();
    // 97 wrong guesses at live codes earlier today (5 per code, 5 codes an hour: it takes most of a day).
    const at = server.clock.now();
    for (let i = 0; i < 97; i++) await server.deps.database.pool.query("insert into rate_limit_hits (bucket, at) values ($1, $2)", [`code:fail:phone:${phone}`, at]);
    const live = await send(phone);
    // Parallel wrong guesses: exactly 3 more are checked, then the phone is locked.
    const replies = await Promise.all(Array.from({ length: 8 }, () => verify(phone, wrongCode(live))));
    assert.equal(replies.filter((r) => r.body.code === "invalid_code").length, 3);
    assert.equal(replies.filter((r) => r.status === 429 && r.body.code === "rate_limited").length, 5);
    assert.equal(await count(server, "select 1 from rate_limit_hits where bucket = $1", [`code:fail:phone:${phone}`]), 100);
    server.clock.advance(HOUR + 1000);
    const fresh = await send(phone);
    const r = await verify(phone, fresh);
    assert.equal(r.status, 429);
    assert.match(r.body.message, /today/);
    server.clock.advance(24 * HOUR);
    const next = await send(phone);
    assert.equal((await verify(phone, next)).status, 200);
  });

  it("malformed phones and codes are 400s naming the field; nothing is stored or sent", async () => {
    const before = await count(server, "select 1 from verification_codes");
    const sent = server.deps.sms.outbox.length;
    for (const phone of ["12345", "0412345678", "+0412345678", "abc", "+61 4123 45678 99999 9", "", 61412345678]) {
      const r = await server.client().post("/api/send-code", { phone });
      assert.equal(r.status, 400, `${phone}: ${r.text}`);
      assert.equal(r.body.details[0].path, "phone");
    }
    assert.equal((await server.client().post("/api/send-code", {})).status, 400);
    assert.equal((await server.client().post("/api/send-code", { phone: newPhone(), extra: 1 })).status, 400);
    for (const code of ["12345", "1234567", "12a456", ""]) {
      const r = await verify(newPhone(), code);
      assert.equal(r.status, 400);
      assert.equal(r.body.details[0].path, "code");
    }
    assert.equal(await count(server, "select 1 from verification_codes"), before);
    assert.equal(server.deps.sms.outbox.length, sent);
  });
});
