// Every refusal the client can meet is the one envelope (API.md): `error` and
// `message` the same human sentence, `code` beside them — from our routes,
// from the body parser, the guards, requireUser and the 404s — and a write
// whose JSON body is empty counts as {} (user-menu logout, cancel-subscription).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Reply } from "../support/client.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

function assertEnvelope(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(typeof r.body.error, "string", "error is a string, never an object");
  assert.ok(r.body.error.length > 3 && !/\[object Object\]/.test(r.body.error));
  assert.equal(r.body.message, r.body.error);
  assert.equal(r.body.code, code);
  assert.doesNotMatch(r.text, /at \w+ \(|node_modules/, "no stack trace");
}

describe("one error envelope everywhere", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("body parser: malformed JSON, too large, not JSON", async () => {
    const c = server.client();
    assertEnvelope(await c.request("POST", "/api/auth/login", '{"phone": '), 400, "invalid_json");
    assertEnvelope(await c.post("/api/auth/login", { phone: "+61400000000", password: "x".repeat(200_000) }), 413, "payload_too_large");
    assertEnvelope(await c.request("POST", "/api/auth/login", "phone=1", { "content-type": "text/plain" }), 415, "unsupported_media_type");
  });

  it("guards: foreign origin, traversal-shaped path", async () => {
    assertEnvelope(await server.client().post("/api/auth/login", {}, { origin: "https://evil.example" }), 403, "forbidden_origin");
    assertEnvelope(await server.client().get("/api/..%2fsecret"), 400, "bad_path");
  });

  it("404s: unknown API path, unknown path, unknown platform", async () => {
    assertEnvelope(await server.client().get("/api/nothing-here"), 404, "not_found");
    assertEnvelope(await server.client().post("/api/nothing-here", {}), 404, "not_found");
    assertEnvelope(await server.client().get("/nothing-here"), 404, "not_found");
  });

  it("requireUser's 401 carries requiresLogin beside the envelope", async () => {
    for (const path of ["/api/user", "/api/posts", "/api/analytics", "/api/yearly-analytics", "/api/my-gift-certificate-actions", "/api/validate-tokens"]) {
      const r = await server.client().get(path);
      assertEnvelope(r, 401, "not_authenticated");
      assert.equal(r.body.requiresLogin, true);
    }
  });

  it("validation names the fields in details; refusals of the services are sentences", async () => {
    const r = await server.client().post("/api/auth/signup", { email: "nope" });
    assertEnvelope(r, 400, "invalid_request");
    assert.ok(Array.isArray(r.body.details) && r.body.details.length >= 3);
    assertEnvelope(await server.client().post("/api/auth/login", { phone: "+61400000001", password: "wrong" }), 401, "invalid_credentials");
  });

  it("an empty body with a JSON content type is {} (logout, cancel-subscription)", async () => {
    const u = await signedUpClient(server, "emptybody");
    const cancel = await u.client.request("POST", "/api/cancel-subscription", undefined, { "content-type": "application/json" });
    assert.equal(cancel.status, 200, cancel.text);
    assert.equal(cancel.body.success, true);
    const out = await u.client.request("POST", "/api/auth/logout", undefined, { "content-type": "application/json" });
    assert.equal(out.status, 200, out.text);
    assert.deepEqual(out.body, { success: true });
    assert.match(out.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal((await u.client.get("/api/user")).status, 401);
  });
});
