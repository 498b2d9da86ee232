// getValidToken against the mounted sandbox: fresh tokens as stored, one
// refresh for many callers, rotation stored, and each failure ending where it
// should (needs_reconnect + one e-mail, or a temporary failure that keeps the
// connection).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConnectionUnavailableError, getValidToken } from "../../server/connections/token-manager.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { activeRow, callCount, connectedUser, control, DAY, HOUR, MINUTE, setTtl, storedTokens, TOKEN_ENDPOINT } from "./token-helpers.ts";

async function unavailable(p: Promise<unknown>): Promise<ConnectionUnavailableError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConnectionUnavailableError, `expected ConnectionUnavailableError, got ${err}`);
    return err;
  }
  throw new Error("expected getValidToken to fail");
}

describe("getValidToken", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("returns the stored token without calling the platform while it is fresh", async () => {
    const { user } = await connectedUser(server, ["x"]);
    const before = await callCount(server, "x.token");
    const stored = await storedTokens(server, user.id, "x");
    const got = await getValidToken(server.deps, user.id, "x");
    assert.equal(got.credentials.accessToken, stored.accessToken);
    assert.equal(got.connection.platform, "x");
    assert.equal(await callCount(server, "x.token"), before);
  });

  it("a stored token the vault cannot open is 'temporarily unavailable', never a reconnect e-mail", async () => {
    const { user, identity } = await connectedUser(server, ["x"]);
    const row = await activeRow(server, user.id, "x");
    // Another row's ciphertext: valid envelope, wrong row identity (as after a key mix-up).
    const foreign = server.deps.vault.seal("whatever", { userId: user.id + 1000, platform: "x" }, "access_token");
    await server.deps.database.pool.query("update platform_connections set access_token = $1 where id = $2", [foreign, row.id]);
    const err = await unavailable(getValidToken(server.deps, user.id, "x"));
    assert.equal(err.reason, "temporarily_unavailable");
    assert.ok(err.retryAt && err.retryAt.getTime() > server.clock.now().getTime());
    assert.equal((await activeRow(server, user.id, "x")).status, "connected");
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 0);
    assert.ok(server.logs.some((l) => l.msg === "Stored token cannot be decrypted: check the token encryption keys"));
  });

  it("refreshes an expired X token once, stores the rotated refresh token, and the old one is dead", async () => {
    const { user } = await connectedUser(server, ["x"]);
    const old = await storedTokens(server, user.id, "x");
    const before = await callCount(server, "x.token");
    server.clock.advance(2 * HOUR + MINUTE);

    const got = await getValidToken(server.deps, user.id, "x");
    assert.equal(await callCount(server, "x.token"), before + 1);
    const now = await storedTokens(server, user.id, "x");
    assert.equal(got.credentials.accessToken, now.accessToken);
    assert.notEqual(now.accessToken, old.accessToken);
    assert.ok(now.refreshToken && now.refreshToken !== old.refreshToken, "X rotated the refresh token and we kept the new one");
    assert.ok(now.expiresAt!.getTime() > server.clock.now().getTime() + HOUR);
    await server.deps.platforms.x.validate(now); // the new access token works
    const reuse = await server.deps.platforms.x.refresh(old).then(
      () => "accepted",
      (err) => server.deps.platforms.x.classifyError(err).kind,
    );
    assert.equal(reuse, "auth_revoked", "the old refresh token is single use");

    const row = await activeRow(server, user.id, "x");
    assert.equal(row.status, "connected");
    assert.equal(row.lastRefreshedAt!.getTime(), server.clock.now().getTime());
    assert.ok(server.logs.some((l) => l.msg === `Token refreshed ${user.phone} for x`));
    for (const t of [old.accessToken, old.refreshToken!, now.accessToken, now.refreshToken]) assert.ok(!server.rawLog().includes(t), "no token in the log");
  });

  it("50 concurrent callers on one expired connection: one refresh, one token", async () => {
    const { user } = await connectedUser(server, ["x"]);
    server.clock.advance(3 * HOUR);
    const before = await callCount(server, "x.token");
    const got = await Promise.all(Array.from({ length: 50 }, () => getValidToken(server.deps, user.id, "x")));
    assert.equal(await callCount(server, "x.token"), before + 1);
    assert.equal(new Set(got.map((g) => g.credentials.accessToken)).size, 1);
    assert.equal(got[0]!.credentials.accessToken, (await storedTokens(server, user.id, "x")).accessToken);
  });

  it("a slow refresh does not hold up the rest of the app (no database transaction waits on the platform on the embedded database)", async () => {
    const { user, client } = await connectedUser(server, ["x"]);
    const old = await storedTokens(server, user.id, "x");
    server.clock.advance(3 * HOUR);
    // X holds the refresh until the test releases it (the sandbox's "late" fault), whatever the machine's speed.
    await control(server, "/faults", { endpoint: "x.token", mode: "late" });
    let settled = false;
    try {
      const refreshing = getValidToken(server.deps, user.id, "x").finally(() => (settled = true));
      for (let i = 0; (await control(server, "/held")).late < 1; i++) {
        assert.ok(i < 2_000, "the refresh reached X");
        await new Promise((r) => setTimeout(r, 10));
      }
      // The app answers while the refresh is still held at the platform.
      const me = await client.get("/api/platform-connections");
      assert.equal(me.status, 200, me.text);
      assert.ok(me.body.some((c: { platform: string }) => c.platform === "x"), me.text);
      assert.equal(settled, false, "answered before the refresh finished");
      assert.equal((await control(server, "/held")).late, 1, "the refresh is still held");
      assert.equal((await control(server, "/release", {})).released, 1);
      const got = await refreshing;
      assert.notEqual(got.credentials.accessToken, old.accessToken, "the held refresh then completed");
      assert.equal(got.credentials.accessToken, (await storedTokens(server, user.id, "x")).accessToken);
    } finally {
      await control(server, "/faults", undefined, "DELETE");
      await control(server, "/release", {});
    }
  });

  it("Google does not rotate: the kept refresh token stays stored", async () => {
    const { user } = await connectedUser(server, ["youtube"]);
    const old = await storedTokens(server, user.id, "youtube");
    server.clock.advance(HOUR);
    const got = await getValidToken(server.deps, user.id, "youtube");
    assert.notEqual(got.credentials.accessToken, old.accessToken);
    assert.equal(got.credentials.refreshToken, old.refreshToken);
    await server.deps.platforms.youtube.validate(got.credentials);
  });

  it("not connected → not_connected", async () => {
    const { user } = await connectedUser(server, []);
    const err = await unavailable(getValidToken(server.deps, user.id, "linkedin"));
    assert.equal(err.reason, "not_connected");
    assert.equal(err.platform, "linkedin");
  });

  it("a revoked grant → needs_reconnect, the log line, one e-mail with the /connect link", async () => {
    const { user, identity, account, client } = await connectedUser(server, ["x"]);
    await control(server, "/revoke", { platform: "x", user: account });
    server.clock.advance(3 * HOUR);
    const mails = () => server.deps.mailer.outbox.filter((m) => m.to === identity.email);

    const err = await unavailable(getValidToken(server.deps, user.id, "x"));
    assert.equal(err.reason, "needs_reconnect");
    const again = await unavailable(getValidToken(server.deps, user.id, "x"));
    assert.equal(again.reason, "needs_reconnect");

    const row = await activeRow(server, user.id, "x");
    assert.equal(row.status, "needs_reconnect");
    // The check looks once more, only to confirm the notice went out (then stops: see check-tick).
    assert.equal(row.nextCheckAt!.getTime(), server.clock.now().getTime() + 60 * 60 * 1000);
    assert.equal(mails().length, 1, "exactly one e-mail");
    assert.ok(mails()[0]!.text.includes(`${server.url}/connect?platform=x`));
    assert.equal(server.logs.filter((l) => l.msg === `Redirect to connect ${user.phone}`).length, 1);

    const list = await client.get("/api/platform-connections");
    const x = list.body.find((c: any) => c.platform === "x");
    assert.equal(x.status, "needs_reconnect");
    assert.equal(x.oauthStatus.isValid, false);
    assert.match(x.oauthStatus.error, /refused/);
  });

  it("a platform failure while the old token still works: the old token, counted and backed off; once expired: temporarily_unavailable", async () => {
    const { user, identity } = await connectedUser(server, ["x"]);
    const old = await storedTokens(server, user.id, "x");
    server.clock.set(new Date(old.expiresAt!.getTime() - 3 * MINUTE)); // not fresh: under 5 minutes left
    await control(server, "/faults", { endpoint: "x.token", status: 503, times: 1 });

    const got = await getValidToken(server.deps, user.id, "x");
    assert.equal(got.credentials.accessToken, old.accessToken);
    let row = await activeRow(server, user.id, "x");
    assert.equal(row.status, "connected");
    assert.equal(row.failureCount, 1);
    assert.match(row.lastError ?? "", /http_503/);
    assert.ok(row.nextCheckAt!.getTime() > server.clock.now().getTime());

    server.clock.advance(10 * MINUTE); // now expired
    await control(server, "/faults", { endpoint: "x.token", status: 502, times: 1 });
    const err = await unavailable(getValidToken(server.deps, user.id, "x"));
    assert.equal(err.reason, "temporarily_unavailable");
    assert.ok(err.retryAt && err.retryAt.getTime() > server.clock.now().getTime());
    row = await activeRow(server, user.id, "x");
    assert.equal(row.status, "connected");
    assert.equal(row.failureCount, 2);

    // The platform is back: the next call refreshes and clears the failures.
    const ok = await getValidToken(server.deps, user.id, "x");
    assert.notEqual(ok.credentials.accessToken, old.accessToken);
    row = await activeRow(server, user.id, "x");
    assert.equal(row.failureCount, 0);
    assert.equal(row.lastError, null);
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 0, "no e-mail for a transient failure");
  });

  it("LinkedIn without a refresh token: used while it lasts, then needs_reconnect without a refresh call", async () => {
    await setTtl(server, { linkedinRefreshTokens: false });
    try {
      const { user } = await connectedUser(server, ["linkedin"]);
      const before = await callCount(server, TOKEN_ENDPOINT.linkedin);
      const got = await getValidToken(server.deps, user.id, "linkedin");
      assert.equal(got.credentials.refreshToken, null);
      server.clock.advance(61 * DAY);
      const err = await unavailable(getValidToken(server.deps, user.id, "linkedin"));
      assert.equal(err.reason, "needs_reconnect");
      assert.equal(await callCount(server, TOKEN_ENDPOINT.linkedin), before);
    } finally {
      await setTtl(server, { linkedinRefreshTokens: true });
    }
  });
});
