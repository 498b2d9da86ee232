// Request logs (server/http/request-log.ts): one line per request with its id; the id comes
// from X-Request-Id when sane, is echoed in the response header and the error
// body, and is on every line logged while serving the request. Secrets in
// query strings, cookies and headers never reach the log.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request logs and request ids", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("takes a sane X-Request-Id, echoes it, and puts it on every line of that request", async () => {
    const client = server.client();
    const id = "trace-4bf92f3577b34da6a3ce929d0e0e4736";
    const identity = newIdentity("reqid");
    const r = await client.post("/api/auth/signup", identity, { "x-request-id": id });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("x-request-id"), id);
    const lines = server.logs.filter((l) => l.requestId === id);
    assert.ok(lines.some((l) => l.msg === "User signed up"), "the domain's own line carries the id");
    const done = lines.find((l) => l.msg === "request completed");
    assert.ok(done, "the request's own line carries the id");
    assert.deepEqual(done.req, { method: "POST", url: "/api/auth/signup" });
    assert.equal((done.res as { statusCode: number }).statusCode, 201);
    assert.equal(server.logs.filter((l) => l.requestId === id && l.msg === "request completed").length, 1);
  });

  it("generates an id when none or a malformed one is given, and names it in error bodies", async () => {
    const client = server.client();
    for (const given of [undefined, "short", "bad id\ninjected", "x".repeat(200)]) {
      const r = await client.post("/api/auth/login", { email: "nobody" }, given === undefined ? {} : { "x-request-id": given.replace("\n", " ") });
      assert.equal(r.status, 400);
      const header = r.headers.get("x-request-id") ?? "";
      assert.match(header, UUID, `a generated id for ${JSON.stringify(given)}`);
      assert.equal(r.body.requestId, header, "the error body names the request");
      assert.equal(r.body.code, "invalid_request");
      assert.equal(r.body.error, r.body.message);
    }
    const missing = await client.get("/api/nothing-here");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.requestId, missing.headers.get("x-request-id"));
  });

  it("never logs an OAuth code or state, a cookie or a password", async () => {
    const client = server.client();
    const identity = newIdentity("secret");
    await client.post("/api/auth/signup", identity);
    assert.ok(client.cookies.size > 0);
    await client.get("/auth/linkedin/callback?code=SECRETCODE0123456789&state=SECRETSTATE0123456789&other=kept");
    await client.get("/api/user", { authorization: "Bearer SECRETBEARER0123456789" });
    const raw = server.rawLog();
    for (const secret of ["SECRETCODE0123456789", "SECRETSTATE0123456789", "SECRETBEARER0123456789", identity.password, ...client.cookies.values()]) {
      assert.ok(!raw.includes(secret), `${secret.slice(0, 12)}… is not in the log`);
    }
    const callback = server.logs.find((l) => l.msg === "request completed" && String((l.req as { url: string }).url).startsWith("/auth/linkedin/callback"));
    assert.equal((callback?.req as { url: string }).url, "/auth/linkedin/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&other=kept");
  });
});
