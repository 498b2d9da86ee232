// The connection check, tick by tick on a test clock shared with the mounted
// sandbox: connections stay usable with no user action, and every failure
// path ends where it should.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PLATFORMS } from "../../shared/schema.ts";
import { connectionCheckJobs, runConnectionCheck } from "../../server/connections/connection-check.ts";
import { getValidToken } from "../../server/connections/token-manager.ts";
import { allJobs } from "../../server/jobs/index.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { activeRow, callCount, connectedUser, control, DAY, HOUR, MINUTE, setTtl, storedTokens, storedTokenWorks } from "./token-helpers.ts";

describe("connection check", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());
  const tick = () => runConnectionCheck(server.deps);
  const mailsTo = (email: string) => server.deps.mailer.outbox.filter((m) => m.to === email);

  it("an hour of 5-minute ticks with 20-minute tokens: every stored token works every minute, X's rotating refresh token is never lost", async () => {
    await setTtl(server, { accessTtl: { x: 1200, linkedin: 1200, google: 1200 } });
    try {
      const { user, identity } = await connectedUser(server, [...PLATFORMS], "hour");
      const xRefreshTokens = new Set([(await storedTokens(server, user.id, "x")).refreshToken]);
      const refreshesBefore = await callCount(server, "x.token");
      for (let minute = 1; minute <= 60; minute++) {
        server.clock.advance(MINUTE);
        if (minute % 5 === 0) await tick();
        for (const p of PLATFORMS) assert.ok(await storedTokenWorks(server, user.id, p), `${p} stored token works at minute ${minute}`);
        xRefreshTokens.add((await storedTokens(server, user.id, "x")).refreshToken);
      }
      const xRefreshes = (await callCount(server, "x.token")) - refreshesBefore;
      assert.ok(xRefreshes >= 11, `X refreshed on its own (${xRefreshes} times)`);
      assert.equal(xRefreshTokens.size, xRefreshes + 1, "each rotation stored a new refresh token");
      // The latest refresh token is the live one: it still renews.
      server.clock.advance(HOUR);
      await tick();
      assert.ok(await storedTokenWorks(server, user.id, "x"));
      for (const p of PLATFORMS) assert.equal((await activeRow(server, user.id, p)).status, "connected", p);
      assert.ok(server.logs.filter((l) => l.msg === `Token refreshed ${user.phone} for x`).length >= xRefreshes);
      assert.equal(mailsTo(identity.email).length, 0, "nobody was asked to do anything");
    } finally {
      await setTtl(server, { accessTtl: { x: 7200, linkedin: 60 * 86400, google: 3599 } });
    }
  });

  it("60-second tokens for an hour: the ticks and getValidToken keep X, LinkedIn and YouTube usable, and X's refresh token always renews", async () => {
    await setTtl(server, { accessTtl: { x: 60, linkedin: 60, google: 60 } });
    try {
      const { user, identity } = await connectedUser(server, ["x", "linkedin", "youtube"], "short");
      const platforms = ["x", "linkedin", "youtube"] as const;
      for (let minute = 1; minute <= 60; minute++) {
        server.clock.advance(MINUTE);
        if (minute % 5 === 0) await tick();
        for (const p of platforms) {
          const { credentials } = await getValidToken(server.deps, user.id, p);
          await server.deps.platforms[p].validate(credentials); // the platform accepts what we hand out
        }
      }
      for (const p of platforms) assert.equal((await activeRow(server, user.id, p)).status, "connected", p);
      assert.ok(server.logs.filter((l) => l.msg === `Token refreshed ${user.phone} for x`).length >= 60);
      assert.equal(mailsTo(identity.email).length, 0);
    } finally {
      await setTtl(server, { accessTtl: { x: 7200, linkedin: 60 * 86400, google: 3599 } });
    }
  });

  it("a tick touches only due connections and sets the next check", async () => {
    const { user } = await connectedUser(server, ["x", "facebook"]);
    await tick(); // settle whatever other tests left due
    const x = await activeRow(server, user.id, "x");
    assert.equal(x.nextCheckAt!.getTime(), x.expiresAt!.getTime() - 15 * MINUTE);
    const before = await callCount(server, "x.token");
    assert.equal((await tick()).checked, 0);
    assert.equal(await callCount(server, "x.token"), before);

    server.clock.set(x.nextCheckAt!);
    const r = await tick();
    assert.ok(r.refreshed >= 1);
    const after = await activeRow(server, user.id, "x");
    assert.ok(after.expiresAt!.getTime() > x.expiresAt!.getTime());
    assert.equal(after.nextCheckAt!.getTime(), after.expiresAt!.getTime() - 15 * MINUTE);
    // Facebook's Page token never expires: looked at (validated) once a day.
    const fb = await activeRow(server, user.id, "facebook");
    assert.equal(fb.expiresAt, null);
    assert.ok(fb.nextCheckAt!.getTime() <= fb.lastValidatedAt!.getTime() + DAY);
  });

  it("a revoked X grant → needs_reconnect on the next due tick, the log line, exactly one e-mail with the /connect link", async () => {
    const { user, identity, account } = await connectedUser(server, ["x"]);
    await control(server, "/revoke", { platform: "x", user: account });
    server.clock.set((await activeRow(server, user.id, "x")).nextCheckAt!);
    await tick();
    server.clock.advance(HOUR);
    await tick();
    const row = await activeRow(server, user.id, "x");
    assert.equal(row.status, "needs_reconnect");
    assert.equal(row.nextCheckAt, null);
    const mails = mailsTo(identity.email);
    assert.equal(mails.length, 1);
    assert.ok(mails[0]!.text.includes(`${server.url}/connect?platform=x`));
    assert.match(mails[0]!.subject, /Reconnect your X account/);
    assert.equal(server.logs.filter((l) => l.msg === `Redirect to connect ${user.phone}`).length, 1);
  });

  it("a reconnect notice that the mail server refused is sent by a later check, once", async () => {
    const { user, identity, account } = await connectedUser(server, ["x"]);
    await control(server, "/revoke", { platform: "x", user: account });
    server.clock.set((await activeRow(server, user.id, "x")).nextCheckAt!);
    // The mailer is an injected outside effect: make the SMTP server unreachable for one tick.
    const send = server.deps.mailer.send;
    server.deps.mailer.send = async () => {
      throw new Error("connect ECONNREFUSED (SMTP down)");
    };
    try {
      await tick();
    } finally {
      server.deps.mailer.send = send;
    }
    const marked = await activeRow(server, user.id, "x");
    assert.equal(marked.status, "needs_reconnect");
    assert.equal(mailsTo(identity.email).length, 0);
    assert.notEqual(marked.nextCheckAt, null, "the check comes back for the notice");
    server.clock.set(marked.nextCheckAt!);
    await tick();
    server.clock.advance(HOUR);
    await tick();
    assert.equal(mailsTo(identity.email).length, 1);
    assert.equal((await activeRow(server, user.id, "x")).nextCheckAt, null);
  });

  it("a Facebook Page token that died (Graph 190) is found by the daily validation", async () => {
    const { user, identity, account } = await connectedUser(server, ["facebook"]);
    await control(server, "/revoke", { platform: "facebook", user: account });
    server.clock.advance(DAY + MINUTE);
    await tick();
    const row = await activeRow(server, user.id, "facebook");
    assert.equal(row.status, "needs_reconnect");
    assert.equal(mailsTo(identity.email).length, 1);
    assert.ok(mailsTo(identity.email)[0]!.text.includes("/connect?platform=facebook"));
  });

  it("a 5xx storm on X's token endpoint: still active, backing off, counting, no e-mail; then it recovers", async () => {
    const { user, identity } = await connectedUser(server, ["x"]);
    const first = await activeRow(server, user.id, "x");
    server.clock.set(first.nextCheckAt!);
    await control(server, "/faults", { endpoint: "x.token", status: 503, times: 1000 });
    try {
      const gaps: number[] = [];
      let attempts = 0;
      for (let i = 0; i < 36; i++) {
        // Three hours of 5-minute ticks.
        const before = await activeRow(server, user.id, "x");
        await tick();
        const after = await activeRow(server, user.id, "x");
        if (after.failureCount > before.failureCount) {
          attempts += 1;
          gaps.push(after.nextCheckAt!.getTime() - server.clock.now().getTime());
        }
        assert.equal(after.status, "connected");
        assert.equal(after.isActive, true);
        server.clock.advance(5 * MINUTE);
      }
      const row = await activeRow(server, user.id, "x");
      assert.equal(row.failureCount, attempts);
      assert.match(row.lastError ?? "", /http_503/);
      assert.ok(attempts >= 4 && attempts < 36, `backed off: ${attempts} attempts in 36 ticks`);
      assert.ok(gaps.at(-1)! > gaps[0]!, `the wait grows (${gaps.map((g) => Math.round(g / MINUTE)).join(", ")} min)`);
      assert.ok(gaps.every((g) => g <= HOUR), "never more than an hour");
      assert.equal(mailsTo(identity.email).length, 0, "no e-mail for a transient failure");
    } finally {
      await control(server, "/faults", undefined, "DELETE");
    }
    server.clock.set((await activeRow(server, user.id, "x")).nextCheckAt!);
    await tick();
    const ok = await activeRow(server, user.id, "x");
    assert.equal(ok.failureCount, 0);
    assert.equal(ok.lastError, null);
    assert.ok(await storedTokenWorks(server, user.id, "x"));
  });

  it("LinkedIn without refresh tokens: one warning 7 days before expiry, then needs_reconnect at expiry", async () => {
    await setTtl(server, { linkedinRefreshTokens: false });
    try {
      const { user, identity } = await connectedUser(server, ["linkedin"]);
      const expiresAt = (await activeRow(server, user.id, "linkedin")).expiresAt!;
      const warnings = () => mailsTo(identity.email).filter((m) => /expires on/.test(m.subject));
      for (let day = 1; day <= 52; day++) {
        server.clock.advance(DAY);
        await tick();
      }
      assert.equal(warnings().length, 0, "no warning yet 8 days before");
      for (let day = 53; day <= 59; day++) {
        server.clock.advance(DAY);
        await tick();
      }
      assert.equal(warnings().length, 1, "one warning in the last week");
      assert.ok(warnings()[0]!.text.includes("/connect?platform=linkedin"));
      assert.equal((await activeRow(server, user.id, "linkedin")).status, "connected");
      server.clock.set(new Date(expiresAt.getTime() + MINUTE));
      await tick();
      assert.equal((await activeRow(server, user.id, "linkedin")).status, "needs_reconnect");
      assert.equal(mailsTo(identity.email).length, 2, "the warning and the reconnect e-mail");
      assert.equal(server.logs.filter((l) => l.msg === `Token refreshed ${user.phone} for linkedin`).length, 0, "never refreshed");
    } finally {
      await setTtl(server, { linkedinRefreshTokens: true });
    }
  });

  it("LinkedIn's refresh token past its fixed expiry → needs_reconnect without a refresh call", async () => {
    await setTtl(server, { accessTtl: { linkedin: 2 * 86400 }, linkedinRefreshTtl: 10 * 86400 });
    try {
      const { user, identity } = await connectedUser(server, ["linkedin"]);
      const row = await activeRow(server, user.id, "linkedin");
      const deadline = row.refreshTokenExpiresAt!;
      for (let day = 1; day <= 9; day++) {
        server.clock.advance(DAY);
        await tick();
        assert.ok(await storedTokenWorks(server, user.id, "linkedin"), `renewed on day ${day}`);
      }
      assert.equal(mailsTo(identity.email).filter((m) => /expires on/.test(m.subject)).length, 1, "warned once before the fixed end");
      server.clock.set(new Date(deadline.getTime() + MINUTE));
      const rowBefore = await activeRow(server, user.id, "linkedin");
      await tick();
      const after = await activeRow(server, user.id, "linkedin");
      assert.equal(after.status, "needs_reconnect");
      assert.match(after.lastError ?? "", /fixed time/);
      // Decided from the stored fixed expiry: the refresh token was not sent again.
      assert.equal(after.lastRefreshedAt!.getTime(), rowBefore.lastRefreshedAt!.getTime());
    } finally {
      await setTtl(server, { accessTtl: { linkedin: 60 * 86400 }, linkedinRefreshTtl: 365 * 86400 });
    }
  });

  it("the timer: every CONNECTION_CHECK_INTERVAL_MINUTES, 0 disables it", () => {
    const job = allJobs(server.deps).find((j) => j.name === "connection-check");
    assert.equal(job?.schedule, "*/5 * * * *");
    const off = { ...server.deps, config: { ...server.deps.config, jobs: { ...server.deps.config.jobs, connectionCheckMinutes: 0 } } };
    assert.deepEqual(connectionCheckJobs(off), []);
  });
});
