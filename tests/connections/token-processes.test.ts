// Several servers on one PostgreSQL database: the row lock, not process
// memory, makes "one refresh per connection" hold across processes.
//
// Three start()ed servers in this test process: each has its own pg pool (its
// own database sessions, so real row locks between them), its own in-process
// single-flight map and its own Deps. They share one TestClock and one sandbox
// — server A's mounted sandbox, which B and C reach over HTTP through
// PLATFORM_SANDBOX_URL — so every refresh from any server is counted in one
// place. Separate OS processes would add nothing the lock can see.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runConnectionCheck } from "../../server/connections/connection-check.ts";
import { ConnectionUnavailableError, getValidToken } from "../../server/connections/token-manager.ts";
import { TestClock } from "../support/clock.ts";
import { needsRealPostgres } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { activeRow, callCount, connectedUser, control, HOUR, storedTokens } from "./token-helpers.ts";

// Long enough that the second server is surely queued on the row lock before the first one's hung call times out
// (the test checks that order rather than assume it); the hung-refresh test waits it out once.
const TIMEOUT_MS = 8000;

describe("one refresh per connection across processes", { skip: needsRealPostgres }, () => {
  let servers: TestServer[] = [];
  let a: TestServer;
  before(async () => {
    const clock = new TestClock(new Date());
    // The platform timeout bounds how long a hung refresh holds the lock.
    a = await startTestServer({ clock, env: { PLATFORM_HTTP_TIMEOUT_MS: String(TIMEOUT_MS) } });
    const env = { PLATFORM_SANDBOX_URL: `${a.url}/sandbox`, PLATFORM_HTTP_TIMEOUT_MS: String(TIMEOUT_MS) };
    const b = await startTestServer({ clock, database: a.database, env });
    const c = await startTestServer({ clock, database: a.database, env });
    servers = [a, b, c];
  });
  after(async () => {
    for (const s of servers.slice(1)) await s.close({ dropDatabase: false });
    await a?.close();
  });

  it("50 concurrent getValidToken calls for one expired X connection over 3 servers: exactly 1 refresh reaches the sandbox, all 50 get the same valid token", async () => {
    const { user } = await connectedUser(a, ["x"], "race");
    const old = await storedTokens(a, user.id, "x");
    a.clock.advance(3 * HOUR);
    // A slow token endpoint keeps the refresh in flight while the other servers queue on the row lock.
    await control(a, "/latency", { endpoint: "x.token", ms: 300 });
    try {
      const before = await callCount(a, "x.token");
      const got = await Promise.all(Array.from({ length: 50 }, (_, i) => getValidToken(servers[i % 3]!.deps, user.id, "x")));
      assert.equal((await callCount(a, "x.token")) - before, 1, "exactly one refresh request");
      const tokens = new Set(got.map((g) => g.credentials.accessToken));
      assert.equal(tokens.size, 1, "everyone got the same token");
      const stored = await storedTokens(a, user.id, "x");
      assert.equal([...tokens][0], stored.accessToken);
      assert.notEqual(stored.accessToken, old.accessToken);
      assert.notEqual(stored.refreshToken, old.refreshToken);
      await a.deps.platforms.x.validate(stored); // valid at the platform
      const lines = servers.flatMap((s) => s.logs).filter((l) => l.msg === `Token refreshed ${user.phone} for x`);
      assert.equal(lines.length, 1, "one refresh logged over all servers");
    } finally {
      await control(a, "/faults", undefined, "DELETE");
    }
  });

  it("three servers running the check at once (and callers using the tokens meanwhile) never refresh one connection twice", async () => {
    const users = [];
    for (let i = 0; i < 24; i++) users.push((await connectedUser(a, ["x"], "tick")).user);
    a.clock.advance(3 * HOUR); // all due, all expired
    await control(a, "/latency", { endpoint: "x.token", ms: 40 });
    try {
      const refreshLines = () => servers.flatMap((s) => s.logs).filter((l) => /^Token refreshed /.test(l.msg)).length;
      const linesBefore = refreshLines();
      const before = await callCount(a, "x.token");
      const [r1, r2, r3] = await Promise.all([
        runConnectionCheck(servers[0]!.deps, { batchSize: 4 }),
        runConnectionCheck(servers[1]!.deps, { batchSize: 4 }),
        runConnectionCheck(servers[2]!.deps, { batchSize: 4 }),
        // Users publishing at the same moment, through the third server and the second.
        ...users.slice(0, 8).map((u, i) => getValidToken(servers[2 - (i % 2)]!.deps, u.id, "x")),
      ]);
      const refreshCalls = (await callCount(a, "x.token")) - before;
      // Other tests' connections may be due too: count ours by their log lines and rows.
      for (const u of users) {
        const row = await activeRow(a, u.id, "x");
        assert.equal(row.status, "connected");
        assert.equal(row.lastRefreshedAt!.getTime(), a.clock.now().getTime(), "refreshed in this tick");
        const lines = servers.flatMap((s) => s.logs).filter((l) => l.msg === `Token refreshed ${u.phone} for x`);
        assert.equal(lines.length, 1, `user ${u.id} refreshed exactly once`);
        await a.deps.platforms.x.validate(await storedTokens(a, u.id, "x"));
      }
      assert.equal(refreshCalls, refreshLines() - linesBefore, "every refresh request that reached the sandbox was one stored refresh");
      const byServer = [r1, r2, r3].map((r) => (r as { refreshed: number }).refreshed);
      assert.ok(byServer.filter((n) => n > 0).length >= 2, `the work was shared: ${byServer.join(", ")}`);
    } finally {
      await control(a, "/faults", undefined, "DELETE");
    }
  });

  it("a refresh whose answer never comes holds the row lock no longer than the platform timeout; the waiter does not retry at once", async () => {
    const { user } = await connectedUser(a, ["x"], "hang");
    a.clock.advance(3 * HOUR);
    await control(a, "/faults", { endpoint: "x.token", mode: "hang", times: 1 });
    try {
      const before = await callCount(a, "x.token");
      const first = getValidToken(a.deps, user.id, "x");
      // A holds the row lock while it waits for X, which never answers.
      for (let i = 0; (await callCount(a, "x.token")) === before; i++) {
        assert.ok(i < 2_000, "A's refresh reached X");
        await new Promise((r) => setTimeout(r, 10));
      }
      let firstSettled = false;
      void first.catch(() => {}).finally(() => (firstSettled = true));
      const second = getValidToken(servers[1]!.deps, user.id, "x");
      // B queues on A's row lock (a session waiting on a lock), while A's call is still hanging.
      for (let i = 0; ; i++) {
        const waiting = await a.deps.database.pool.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
        if (waiting.rows[0].n > 0) break;
        assert.ok(i < 2_000 && !firstSettled, "B queued on the row lock while A's call was still hanging");
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(firstSettled, false, "B queued while A held the lock");
      const results = await Promise.allSettled([first, second]);
      for (const r of results) {
        assert.equal(r.status, "rejected");
        const err = (r as PromiseRejectedResult).reason;
        assert.ok(err instanceof ConnectionUnavailableError);
        assert.equal(err.reason, "temporarily_unavailable");
        // B got the lock when A's platform call timed out and read A's recorded failure: had A kept the lock,
        // B would have given up on lock_timeout (platform timeout + 5 s) with "could not be renewed right now".
        assert.match(err.message, /timeout/, err.message);
      }
      assert.equal((await callCount(a, "x.token")) - before, 1, "the waiter did not call X again");
      assert.ok(!servers.some((s) => s.logs.some((l) => l.msg === "Token refresh did not complete")), "nobody waited out the lock");
      // The lock is free now: another session takes it without waiting.
      const row = await activeRow(a, user.id, "x");
      await servers[2]!.deps.database.withConnection(async (_db, query) => {
        await query("begin");
        await query("select id from platform_connections where id = $1 for update nowait", [row.id]);
        await query("rollback");
      });
      assert.equal(row.status, "connected", "a lost answer is not a refusal");
      assert.equal(row.failureCount, 1, "one attempt, counted once");
      assert.match(row.lastError ?? "", /timeout/);
    } finally {
      await control(a, "/faults", undefined, "DELETE");
    }
  });

  it("a revoked grant seen by 3 servers at once: one verdict, one log line, one e-mail", async () => {
    const { user, identity, account } = await connectedUser(a, ["x"], "revoked");
    await control(a, "/revoke", { platform: "x", user: account });
    a.clock.advance(3 * HOUR);
    const results = await Promise.allSettled([
      ...servers.map((s) => runConnectionCheck(s.deps, { batchSize: 2 })),
      ...Array.from({ length: 12 }, (_, i) => getValidToken(servers[i % 3]!.deps, user.id, "x")),
    ]);
    const refusals = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    assert.equal(refusals.length, 12);
    for (const err of refusals) assert.equal((err as ConnectionUnavailableError).reason, "needs_reconnect");
    assert.equal((await activeRow(a, user.id, "x")).status, "needs_reconnect");
    const lines = servers.flatMap((s) => s.logs).filter((l) => l.msg === `Redirect to connect ${user.phone}`);
    assert.equal(lines.length, 1);
    const mails = servers.flatMap((s) => s.deps.mailer.outbox).filter((m) => m.to === identity.email);
    assert.equal(mails.length, 1);
    assert.ok(mails[0]!.text.includes("/connect?platform=x"));
  });
});
