// Multi-user sessions (the seed's multi-user test), persistence across a
// restart, logout, and session fixation.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { Client, type Reply } from "../support/client.ts";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";
import { countStatements } from "../support/statements.ts";

describe("sessions", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  it("20 users logging in concurrently get 20 distinct sessions and each sees only itself", async () => {
    const ids = Array.from({ length: 20 }, () => newIdentity("multi"));
    const signups = await Promise.all(ids.map((id) => server.client().post("/api/auth/signup", id)));
    for (const r of signups) assert.equal(r.status, 201, r.text);
    const clients = ids.map(() => server.client());
    const logins = await Promise.all(
      clients.map((c, i) => c.post("/api/auth/login", { email: ids[i]!.email, password: ids[i]!.password })),
    );
    for (const r of logins) assert.equal(r.status, 200, r.text);
    const cookies = new Set(clients.map((c) => c.cookieHeader));
    assert.equal(cookies.size, 20);
    const me = await Promise.all(clients.map((c) => c.get("/api/user")));
    me.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body.email, ids[i]!.email);
      assert.equal(r.body.phone, ids[i]!.phone);
    });
    const statuses = await Promise.all(clients.map((c) => c.get("/api/auth/session")));
    assert.equal(new Set(statuses.map((s) => s.body.sessionId)).size, 20);
    statuses.forEach((s, i) => {
      assert.equal(s.body.authenticated, true);
      assert.equal(s.body.userEmail, ids[i]!.email);
    });
  });

  it("an authenticated GET /api/user costs one statement (session and user read together), and sees the user as stored now", async () => {
    const client = server.client();
    const identity = newIdentity("onestmt");
    assert.equal((await client.post("/api/auth/signup", identity)).status, 201);
    assert.equal((await client.get("/api/user")).status, 200);
    // Counted where every statement of this server passes: its driver client (pg.Pool or PGlite).
    let me: Reply | undefined;
    const statements = await countStatements(server.deps.db, async () => {
      me = await client.get("/api/user");
    });
    assert.equal(me!.status, 200);
    assert.equal(me!.body.email, identity.email);
    assert.equal(statements, 1, "one statement for the session and its user");
    // The user is read with each request's session, never kept between requests.
    await server.deps.db.execute(sql`update users set email = ${`changed-${identity.email}`} where email = ${identity.email}`);
    assert.equal((await client.get("/api/user")).body.email, `changed-${identity.email}`);
  });

  it("stores passwords as scrypt hashes and never logs a password or a cookie", async () => {
    const id = newIdentity("secret");
    const c = server.client();
    await c.post("/api/auth/signup", id);
    await c.post("/api/auth/login", { email: id.email, password: "a wrong password" });
    const { rows } = await server.deps.database.pool.query("select password_hash from users where email = $1", [id.email]);
    assert.match(rows[0].password_hash, /^scrypt\$16384\$8\$1\$/);
    assert.ok(!rows[0].password_hash.includes(id.password));
    const log = server.rawLog();
    assert.ok(!log.includes(id.password) && !log.includes("a wrong password"), "no password in the log");
    assert.ok(!log.includes(c.cookies.get("aiq.sid")!), "no cookie in the log");
    const me = await c.get("/api/user");
    assert.ok(!me.text.includes("scrypt") && !me.text.toLowerCase().includes("password"), "no hash in responses");
  });

  it("answers the anonymous session shape and 401 with requiresLogin", async () => {
    const c = server.client();
    const s = await c.get("/api/auth/session");
    assert.deepEqual(s.body, { authenticated: false, sessionId: null, userId: null, userEmail: null, user: null });
    const u = await c.get("/api/user");
    assert.equal(u.status, 401);
    assert.equal(u.body.message, "Not authenticated");
    assert.equal(u.body.requiresLogin, true);
  });

  it("establish-session sets a cookie without logging anybody in", async () => {
    const c = server.client();
    const r = await c.post("/api/auth/establish-session", {});
    assert.equal(r.status, 200);
    assert.equal(r.body.authenticated, false);
    assert.equal(typeof r.body.sessionId, "string");
    assert.ok(c.cookies.has("aiq.sid"));
    const cookie = r.headers.getSetCookie()[0]!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    // The public session id is not the cookie value.
    assert.ok(!c.cookieHeader.includes(r.body.sessionId));
  });

  it("logout deletes the session row and the cookie stops working", async () => {
    const id = newIdentity("logout");
    const c = server.client();
    await c.post("/api/auth/signup", id);
    const stolen = c.cookieHeader;
    const before = await server.deps.database.pool.query("select count(*)::int as n from sessions");
    const out = await c.post("/api/auth/logout", {});
    assert.deepEqual(out.body, { success: true });
    const afterCount = await server.deps.database.pool.query("select count(*)::int as n from sessions");
    assert.equal(afterCount.rows[0].n, before.rows[0].n - 1);
    const replay = await server.client().get("/api/user", { cookie: stolen });
    assert.equal(replay.status, 401);
  });

  it("refuses a session id fixed before login (a new id is issued)", async () => {
    const id = newIdentity("fix");
    await server.client().post("/api/auth/signup", id);
    const c = server.client();
    await c.post("/api/auth/establish-session", {});
    const preLogin = c.cookieHeader;
    const login = await c.post("/api/auth/login", { phone: id.phone, password: id.password });
    assert.equal(login.status, 200);
    assert.notEqual(c.cookieHeader, preLogin);
    assert.equal((await c.get("/api/user")).status, 200);
    const attacker = await server.client().get("/api/user", { cookie: preLogin });
    assert.equal(attacker.status, 401);
  });

  it("gives the same answer for a wrong password and an unknown account, and limits failures per account", async () => {
    const id = newIdentity("limit");
    assert.equal((await server.client().post("/api/auth/signup", id)).status, 201);
    const wrong = await server.client().post("/api/auth/login", { email: id.email, password: "wrong password" });
    const unknown = await server.client().post("/api/auth/login", { email: "nobody@example.com", password: "wrong password" });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    // Each answer names its own request; everything else is the same.
    const sameAs = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    assert.deepEqual(sameAs(wrong.body), sameAs(unknown.body));
    for (let i = 0; i < 9; i++) {
      const r = await server.client().post("/api/auth/login", { email: id.email, password: "wrong" });
      assert.deepEqual([r.status, sameAs(r.body)], [401, sameAs(wrong.body)], `failure ${i + 2} is an ordinary refusal, not yet limited`);
    }
    const blocked = await server.client().post("/api/auth/login", { email: id.email, password: id.password });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);
    // Another account from the same address is not locked out by it.
    const other = newIdentity("limit2");
    assert.equal((await server.client().post("/api/auth/signup", other)).status, 201);
    assert.equal((await server.client().post("/api/auth/login", { email: other.email, password: other.password })).status, 200);
    // Past the window the right password works again.
    server.clock.advance(16 * 60 * 1000);
    assert.equal((await server.client().post("/api/auth/login", { email: id.email, password: id.password })).status, 200);
  });
});

describe("login limits under parallel attempts", () => {
  it("30 parallel wrong passwords for one account: at most 10 are checked, the rest are refused", async () => {
    const server = await startTestServer();
    try {
      const id = newIdentity("burst");
      await server.client().post("/api/auth/signup", id);
      const replies = await Promise.all(
        Array.from({ length: 30 }, (_, i) => server.client().post("/api/auth/login", { email: id.email, password: `guess ${i}` })),
      );
      const statuses = replies.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 401).length, 10);
      assert.equal(statuses.filter((s) => s === 429).length, 20);
    } finally {
      await server.close();
    }
  });
});

describe("sessions across a restart", () => {
  it("a session stored in PostgreSQL survives a server restart", async () => {
    const first = await startTestServer({ env: {}, dataDir: undefined });
    if (first.deps.database.kind === "embedded") {
      // An in-memory embedded database dies with the process: restart on a folder instead.
      await first.close();
      const { mkdtempSync, rmSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const dir = mkdtempSync(join(tmpdir(), "aiq-restart-"));
      try {
        await restartRoundTrip(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return;
    }
    const id = newIdentity("restart");
    const c = first.client();
    await c.post("/api/auth/signup", id);
    await first.close({ dropDatabase: false });
    const second = await startTestServer({ database: first.database });
    try {
      const r = await new Client(second.url).get("/api/user", { cookie: c.cookieHeader });
      assert.equal(r.status, 200);
      assert.equal(r.body.email, id.email);
    } finally {
      await second.close();
    }
  });
});

/** Embedded mode: the database lives in DATA_DIR/pglite, as with `npm start`. */
async function restartRoundTrip(dataDir: string) {
  const { start } = await import("../../server/index.ts");
  const { TEST_SECRETS, freePort } = await import("../support/server.ts");
  const port = await freePort();
  const env = {
    NODE_ENV: "test",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    REQUIRE_PHONE_VERIFICATION: "false",
    ...TEST_SECRETS,
  };
  const a = await start({ env, port, jobs: false });
  const id = newIdentity("restart");
  const c = new Client(a.url);
  assert.equal((await c.post("/api/auth/signup", id)).status, 201);
  await a.stop();
  const b = await start({ env, port, jobs: false });
  try {
    const r = await new Client(b.url).get("/api/user", { cookie: c.cookieHeader });
    assert.equal(r.status, 200);
    assert.equal(r.body.email, id.email);
  } finally {
    await b.stop();
  }
}
