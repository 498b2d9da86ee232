// GET /api/check-connection and POST /api/platform-connections/:platform/refresh
// over HTTP: shapes, every failure answer, no token in any response.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { activeRow, callCount, connectedUser, control, HOUR, storedTokens } from "./token-helpers.ts";

describe("connection check endpoints", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("both need a login", async () => {
    const c = server.client();
    assert.equal((await c.get("/api/check-connection")).status, 401);
    assert.equal((await c.post("/api/platform-connections/x/refresh")).status, 401);
  });

  it("GET /api/check-connection refreshes what is due, validates the rest, formats every connection without tokens", async () => {
    const { client, user } = await connectedUser(server, ["x", "facebook"]);
    server.clock.advance(2 * HOUR);
    const before = await callCount(server, "x.token");
    const r = await client.get("/api/check-connection");
    assert.equal(r.status, 200);
    assert.equal(r.body.checked, 2);
    assert.equal(r.body.refreshed, 1);
    assert.deepEqual(r.body.needsReconnect, []);
    assert.equal(await callCount(server, "x.token"), before + 1);
    const x = r.body.connections.find((c: any) => c.platform === "x");
    assert.deepEqual(Object.keys(x).sort(), ["connectedAt", "expiresAt", "id", "isActive", "oauthStatus", "platform", "platformUsername", "status"]);
    assert.equal(x.status, "connected");
    assert.equal(x.oauthStatus.isValid, true);
    assert.equal(x.oauthStatus.needsRefresh, false);
    const tokens = await storedTokens(server, user.id, "x");
    assert.ok(!r.text.includes(tokens.accessToken) && !r.text.includes(tokens.refreshToken!), "no token in the answer");
    const row = await activeRow(server, user.id, "facebook");
    assert.equal(row.lastValidatedAt!.getTime(), server.clock.now().getTime(), "Facebook was validated now");
  });

  it("GET /api/check-connection names what needs a reconnect", async () => {
    const { client, account } = await connectedUser(server, ["x", "youtube"]);
    await control(server, "/revoke", { platform: "youtube", user: account });
    const r = await client.get("/api/check-connection");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.needsReconnect, ["youtube"]);
    const yt = r.body.connections.find((c: any) => c.platform === "youtube");
    assert.equal(yt.status, "needs_reconnect");
    assert.equal(yt.oauthStatus.isValid, false);
  });

  it("POST …/x/refresh (and …/twitter/refresh) renews now", async () => {
    const { client, user } = await connectedUser(server, ["x"]);
    const old = await storedTokens(server, user.id, "x");
    const r = await client.post("/api/platform-connections/x/refresh");
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.match(r.body.message, /renewed/);
    assert.equal(r.body.connection.platform, "x");
    assert.equal(r.body.connection.status, "connected");
    const now = await storedTokens(server, user.id, "x");
    assert.notEqual(now.accessToken, old.accessToken);
    assert.ok(!r.text.includes(now.accessToken));
    const again = await client.post("/api/platform-connections/twitter/refresh");
    assert.equal(again.status, 200);
    assert.notEqual((await storedTokens(server, user.id, "x")).accessToken, now.accessToken);
  });

  it("POST …/facebook/refresh: nothing to renew, the token is proven instead", async () => {
    const { client } = await connectedUser(server, ["facebook"]);
    const r = await client.post("/api/platform-connections/facebook/refresh");
    assert.equal(r.status, 200);
    assert.equal(r.body.success, true);
    assert.match(r.body.message, /does not need renewing/);
  });

  it("answers: unknown platform 404, not connected 404 + requiresReconnection, refused 409 + requiresReconnection, platform down 503", async () => {
    const { client, account } = await connectedUser(server, ["x"]);
    const unknown = await client.post("/api/platform-connections/myspace/refresh");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, "unknown_platform");

    const notConnected = await client.post("/api/platform-connections/linkedin/refresh");
    assert.equal(notConnected.status, 404);
    assert.equal(notConnected.body.success, false);
    assert.equal(notConnected.body.requiresReconnection, true);
    assert.equal(notConnected.body.code, "not_connected");

    await control(server, "/faults", { endpoint: "x.token", status: 500, times: 1 });
    const down = await client.post("/api/platform-connections/x/refresh");
    assert.equal(down.status, 503);
    assert.equal(down.body.success, false);
    assert.equal(down.body.requiresReconnection, false);
    assert.ok(down.body.message);

    await control(server, "/revoke", { platform: "x", user: account });
    const refused = await client.post("/api/platform-connections/x/refresh");
    assert.equal(refused.status, 409);
    assert.equal(refused.body.success, false);
    assert.equal(refused.body.requiresReconnection, true);
    assert.equal(refused.body.code, "needs_reconnect");
    assert.match(refused.body.message, /reconnected/);
  });
});
