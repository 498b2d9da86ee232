// Limits that must hold across processes: two servers on one PostgreSQL
// database, requests split between them in parallel. Plus the production
// refusal to send without Twilio (production needs PostgreSQL too).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TestClock } from "../support/clock.ts";
import { needsRealPostgres } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { codesSentTo, count, newPhone, wrongCode } from "./helpers.ts";

describe("code limits across two processes", { skip: needsRealPostgres }, () => {
  let a: TestServer;
  let b: TestServer;
  const clock = new TestClock(new Date());
  before(async () => {
    a = await startTestServer({ clock });
    b = await startTestServer({ clock, database: a.database });
  });
  after(async () => {
    await b?.close({ dropDatabase: false });
    await a?.close();
  });
  const pick = (i: number) => (i % 2 ? a : b);

  it("5 sends per phone per hour in total", async () => {
    const phone = newPhone();
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => pick(i).client().post("/api/send-code", { phone })));
    assert.equal(replies.filter((r) => r.status === 200).length, 5);
    assert.equal(replies.filter((r) => r.status === 429).length, 7);
    assert.equal(codesSentTo([a, b], phone).length, 5);
  });

  it("5 checks per code in total, and one success for the right code", async () => {
    const phone = newPhone();
    assert.equal((await a.client().post("/api/send-code", { phone })).status, 200);
    const code = codesSentTo(a, phone).at(-1)!;
    const wrong = await Promise.all(Array.from({ length: 12 }, (_, i) => pick(i).client().post("/api/verify-code", { phone, code: wrongCode(code) })));
    assert.equal(wrong.filter((r) => r.status === 400).length, 5);
    assert.equal((await b.client().post("/api/verify-code", { phone, code })).status, 429);

    const phone2 = newPhone();
    assert.equal((await b.client().post("/api/send-code", { phone: phone2 })).status, 200);
    const code2 = codesSentTo(b, phone2).at(-1)!;
    const right = await Promise.all(Array.from({ length: 8 }, (_, i) => pick(i).client().post("/api/verify-code", { phone: phone2, code: code2 })));
    assert.equal(right.filter((r) => r.status === 200).length, 1);
  });

  it("100 failed checks per phone per day in total", async () => {
    const phone = newPhone();
    // 97 wrong guesses at live codes earlier today; only wrong guesses at a live code count.
    for (let i = 0; i < 97; i++) await a.deps.database.pool.query("insert into rate_limit_hits (bucket, at) values ($1, $2)", [`code:fail:phone:${phone}`, clock.now()]);
    assert.equal((await a.client().post("/api/send-code", { phone })).status, 200);
    const live = codesSentTo(a, phone).at(-1)!;
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => pick(i).client().post("/api/verify-code", { phone, code: wrongCode(live) })));
    assert.equal(replies.filter((r) => r.body.code === "invalid_code").length, 3);
    assert.equal(replies.filter((r) => r.body.code === "rate_limited").length, 9);
    assert.equal(await count(a, "select 1 from rate_limit_hits where bucket = $1", [`code:fail:phone:${phone}`]), 100);
    clock.advance(60 * 60 * 1000 + 1000);
    assert.equal((await b.client().post("/api/send-code", { phone })).status, 200);
    const fresh = codesSentTo(b, phone).at(-1)!;
    assert.equal((await a.client().post("/api/verify-code", { phone, code: fresh })).status, 429);
    assert.equal((await b.client().post("/api/verify-code", { phone, code: fresh })).status, 429);
  });
});

describe("production without Twilio", { skip: needsRealPostgres }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production", PLATFORM_MODE: "sandbox", ALLOW_SANDBOX_IN_PRODUCTION: "true", ALLOW_OUTBOX_IN_PRODUCTION: "true" } });
  });
  after(async () => {
    await server?.close();
  });

  it("send-code answers 503 and leaves no checkable code", async () => {
    const phone = newPhone();
    const r = await server.client().post("/api/send-code", { phone });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.code, "sms_unavailable");
    assert.match(r.body.message, /SMS/);
    assert.equal(server.deps.sms.outbox.length, 0);
    assert.equal(await count(server, "select 1 from verification_codes where phone = $1 and expires_at > $2", [phone, server.clock.now()]), 0);
  });
});
