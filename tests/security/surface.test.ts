// The remaining surface of issue 19: anonymous OAuth starts store no session
// (item 8); slow or short requests cannot hold a connection, check-connection
// cannot be fired cross-site, and the sandbox's control API is operator-only
// in production (item 9).
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { needsRealPostgres } from "../support/database.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

const sessionRows = async (server: TestServer) => (await server.deps.database.pool.query("select count(*)::int as n from sessions")).rows[0].n as number;

/** Sends `raw` and resolves with what the server answered once it closed the connection (or null at the deadline). */
function holdOpen(url: string, raw: string, deadlineMs = 30_000): Promise<string | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let answer = "";
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, deadlineMs);
    socket.on("data", (d) => (answer += d));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on("error", () => {});
  });
}

describe("surface", () => {
  let server: TestServer;
  before(async () => {
    // Short bounds so the test does not wait; the deadline below is far longer than either.
    server = await startTestServer({ env: { HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_REQUEST_TIMEOUT_MS: "2000" } });
  });
  after(() => server.close());

  it("anonymous GET /auth/<platform> writes no session row", async () => {
    const before = await sessionRows(server);
    for (let i = 0; i < 20; i++) {
      const r = await server.client().get(i % 2 ? "/auth/x?mode=redirect" : "/api/auth/linkedin");
      assert.ok(r.status === 200 || r.status === 302, r.text);
      assert.equal(r.headers.getSetCookie().length, 0);
    }
    // Still told to log in, in the mode asked for.
    const redirect = await server.client().get("/auth/x?mode=redirect");
    assert.equal(redirect.headers.get("location"), "/connect?error=x&reason=login_required");
    assert.equal(await sessionRows(server), before);
  });

  it("a body shorter than its Content-Length is cut off (408), not held for minutes", async () => {
    const answer = await holdOpen(server.url, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"");
    assert.notEqual(answer, null, "the server kept the connection open");
    assert.match(answer!, /^HTTP\/1\.1 408/);
  });

  it("headers that never end are cut off too", async () => {
    const answer = await holdOpen(server.url, "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n");
    assert.notEqual(answer, null, "the server kept the connection open");
    assert.match(answer!, /^HTTP\/1\.1 408/);
  });

  it("GET /api/check-connection works from our page and refuses other sites without running the check", async () => {
    const { client, user } = await signedUpClient(server, "csrf");
    const checks = async () =>
      (await server.deps.database.pool.query("select count(*)::int as n from rate_limit_hits where bucket = $1", [`connection-check:user:${user.id}`])).rows[0].n as number;
    for (const headers of [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { referer: "https://evil.example/page" }] as Record<string, string>[]) {
      const r = await client.get("/api/check-connection", headers);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.body.code, "forbidden_origin");
    }
    assert.equal(await checks(), 0);
    for (const headers of [{ "sec-fetch-site": "same-origin" }, { "sec-fetch-site": "none" }, { referer: `${server.url}/connect` }, {}] as Record<string, string>[]) {
      const r = await client.get("/api/check-connection", headers);
      assert.equal(r.status, 200, `${JSON.stringify(headers)}: ${r.text}`);
      assert.ok(Array.isArray(r.body.connections));
    }
    assert.equal(await checks(), 4);
  });

  it("the sandbox's control API stays open in development", async () => {
    const r = await server.client().get("/sandbox/_control/published");
    assert.equal(r.status, 200);
  });
});

describe("the sandbox in production", { skip: needsRealPostgres }, () => {
  const OPS_TOKEN = "ops-token-0123456789abcdef";
  let server: TestServer;
  let bare: TestServer;
  before(async () => {
    const env = { NODE_ENV: "production", PLATFORM_MODE: "sandbox", ALLOW_SANDBOX_IN_PRODUCTION: "true", ALLOW_OUTBOX_IN_PRODUCTION: "true" };
    server = await startTestServer({ env: { ...env, OPS_TOKEN } });
    bare = await startTestServer({ env });
  });
  after(async () => {
    await bare?.close();
    await server?.close();
  });

  it("/sandbox/_control needs the operator token", async () => {
    const anonymous = await server.client().post("/sandbox/_control/faults", { endpoint: "x.publish", status: 503, count: 100 });
    assert.equal(anonymous.status, 401);
    const wrong = await server.client().get("/sandbox/_control/published", { authorization: "Bearer not-the-token-at-all" });
    assert.equal(wrong.status, 403);
    const right = await server.client().get("/sandbox/_control/published", { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(right.status, 200, right.text);
    assert.equal(Array.isArray(right.body) || typeof right.body === "object", true);
  });

  it("without OPS_TOKEN the control API does not exist", async () => {
    assert.equal((await bare.client().get("/sandbox/_control/published")).status, 404);
  });
});
