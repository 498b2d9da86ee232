// Forgot / validate / reset as the client's pages call them (CLIENT.md §6):
// forgot-password always 200 and e-mails only when email and phone match; the
// link has the client's format; the token is stored hashed, validates without
// being used up, works once, for an hour; a reset ends every session.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";
import { until } from "./helpers.ts";

describe("password reset", () => {
  let server: TestServer;
  const id = { ...newIdentity("reset"), email: `first+reset${process.pid}@example.com` };

  before(async () => {
    server = await startTestServer();
    assert.equal((await server.client().post("/api/auth/signup", id)).status, 201);
  });
  after(() => server.close());

  const mailsTo = (to: string) => server.deps.mailer.outbox.filter((m) => m.to === to);
  const noMatchLines = () => server.logs.filter((l) => l.msg === "Password reset requested; no account matches").length;

  /** Asks for a link and returns it from the e-mail, as the user would. */
  async function linkFor(email: string, phone: string): Promise<URL> {
    const before = mailsTo(email).length;
    const r = await server.client().post("/api/forgot-password", { email, phone });
    assert.equal(r.status, 200);
    const mail = await until("the reset e-mail", () => mailsTo(email)[before]);
    return new URL(/https?:\/\/\S+/.exec(mail.text)![0]);
  }

  it("answers 200 the same way whether or not the details match, and e-mails only on a match", async () => {
    const answers = [];
    for (const body of [
      { email: "nobody@example.com", phone: id.phone },
      { email: id.email, phone: "+61400000999" },
      { email: id.email, phone: "0412 not a number" },
    ]) {
      const seen = noMatchLines();
      const r = await server.client().post("/api/forgot-password", body);
      assert.equal(r.status, 200);
      answers.push(r.body);
      await until("the request to be looked at", () => (noMatchLines() > seen ? true : undefined));
    }
    assert.equal(mailsTo(id.email).length, 0);
    assert.equal(mailsTo("nobody@example.com").length, 0);
    const match = await server.client().post("/api/forgot-password", { email: id.email.toUpperCase(), phone: id.phone });
    assert.deepEqual(match.body, answers[0]);
    assert.deepEqual(answers[1], answers[0]);
    await until("the reset e-mail", () => mailsTo(id.email)[0]);
  });

  it("the link has the client's format and only the token's hash is stored", async () => {
    const link = await linkFor(id.email, id.phone);
    assert.equal(link.origin + link.pathname, `${server.url}/reset-password`);
    assert.match(link.search, new RegExp(`&email=first%2Breset${process.pid}%40example\\.com$`));
    const token = link.searchParams.get("token")!;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const rows = (await server.deps.database.pool.query("select token_hash from password_reset_tokens where used_at is null")).rows;
    assert.deepEqual(rows.map((r: { token_hash: string }) => r.token_hash), [createHash("sha256").update(token).digest("hex")]);
    assert.ok(!server.rawLog().includes(token), "the token is never logged");
  });

  it("validate does not use the token up; reset works once and ends every session", async () => {
    const a = server.client();
    const b = server.client();
    for (const c of [a, b]) assert.equal((await c.post("/api/auth/login", { phone: id.phone, password: id.password })).status, 200);
    const link = await linkFor(id.email, id.phone);
    const token = link.searchParams.get("token")!;
    const email = link.searchParams.get("email")!;
    for (let i = 0; i < 2; i++) assert.equal((await server.client().post("/api/validate-reset-token", { token, email })).status, 200);
    const otherEmail = await server.client().post("/api/validate-reset-token", { token, email: "nobody@example.com" });
    assert.equal(otherEmail.status, 400);
    assert.equal(otherEmail.body.code, "invalid_reset_token");
    assert.equal(otherEmail.body.error, otherEmail.body.message);

    const short = await server.client().post("/api/reset-password", { token, email, password: "short" });
    assert.equal(short.status, 400);
    assert.equal(short.body.details[0].path, "password");
    const r = await server.client().post("/api/reset-password", { token, email, password: "a brand new password" });
    assert.equal(r.status, 200, r.text);
    for (const c of [a, b]) assert.equal((await c.get("/api/user")).status, 401, "every session ended");
    assert.equal((await server.client().post("/api/auth/login", { phone: id.phone, password: id.password })).status, 401);
    assert.equal((await server.client().post("/api/auth/login", { phone: id.phone, password: "a brand new password" })).status, 200);
    id.password = "a brand new password";

    const again = await server.client().post("/api/reset-password", { token, email, password: "yet another password" });
    assert.equal(again.status, 400);
    assert.equal((await server.client().post("/api/validate-reset-token", { token, email })).status, 400);
  });

  it("a link lives an hour, and a newer request replaces it", async () => {
    // Five requests per e-mail an hour: the earlier tests used them up.
    server.clock.advance(60 * 60 * 1000 + 1000);
    const old = (await linkFor(id.email, id.phone)).searchParams.get("token")!;
    const fresh = (await linkFor(id.email, id.phone)).searchParams.get("token")!;
    assert.equal((await server.client().post("/api/validate-reset-token", { token: old, email: id.email })).status, 400, "replaced");
    assert.equal((await server.client().post("/api/validate-reset-token", { token: fresh, email: id.email })).status, 200);
    server.clock.advance(60 * 60 * 1000 + 1000);
    assert.equal((await server.client().post("/api/validate-reset-token", { token: fresh, email: id.email })).status, 400);
    assert.equal((await server.client().post("/api/reset-password", { token: fresh, email: id.email, password: "too late password" })).status, 400);
  });

  it("bad input is a 400 naming the field", async () => {
    const r = await server.client().post("/api/forgot-password", { email: "not-an-email", phone: "" });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.details.map((d: { path: string }) => d.path).sort(), ["email", "phone"]);
  });
});
