// Bad input is a clear 4xx naming what is wrong, never a 500 or a stack trace;
// paths are never echoed or resolved outside the static folder.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";

describe("bad input", () => {
  let server: TestServer;
  before(async () => {
    const staticDir = join(process.env.TMPDIR ?? "/tmp", `aiq-static-${process.pid}`);
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, "index.html"), "<h1>AgencyIQ</h1>");
    server = await startTestServer({ env: { STATIC_DIR: staticDir } });
  });
  after(() => server.close());

  const field = (body: any) => [...new Set((body.details as { path: string }[]).map((d) => d.path))];

  it("missing fields are named", async () => {
    const r = await server.client().post("/api/auth/signup", { email: "a@example.com" });
    assert.equal(r.status, 400);
    assert.deepEqual(field(r.body).sort(), ["password", "phone"]);
    assert.match(r.body.message, /password/);
  });

  it("wrong types are named", async () => {
    const r = await server.client().post("/api/auth/signup", { email: 42, password: ["x"], phone: true });
    assert.equal(r.status, 400);
    assert.deepEqual(field(r.body).sort(), ["email", "password", "phone"]);
  });

  it("malformed emails and phones are named", async () => {
    const r = await server.client().post("/api/auth/signup", { email: "not-an-email", password: "long enough pw", phone: "12" });
    assert.equal(r.status, 400);
    assert.deepEqual(field(r.body).sort(), ["email", "phone"]);
  });

  it("unknown fields are refused by name", async () => {
    const r = await server.client().post("/api/auth/signup", { ...newIdentity(), isAdmin: true });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /isAdmin/);
  });

  it("malformed JSON is a 400", async () => {
    const r = await server.client().request("POST", "/api/auth/login", '{"email": "a@b.c", ');
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "invalid_json");
  });

  it("an oversized body is a 413", async () => {
    const r = await server.client().post("/api/auth/login", { email: "a@b.co", password: "x".repeat(200_000) });
    assert.equal(r.status, 413);
    assert.equal(r.body.code, "payload_too_large");
  });

  it("a non-JSON body is a 415", async () => {
    const r = await server.client().request("POST", "/api/auth/login", "email=a", { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(r.status, 415);
  });

  it("a write from another origin is refused", async () => {
    const r = await server.client().post("/api/auth/login", { email: "a@b.co", password: "x" }, { origin: "https://evil.example" });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, "forbidden_origin");
  });

  it("login needs exactly one of email or phone", async () => {
    const r = await server.client().post("/api/auth/login", { password: "x" });
    assert.equal(r.status, 400);
    assert.ok(field(r.body).includes("email"));
  });

  it("unknown API paths are 404 JSON without the path echoed", async () => {
    const r = await server.client().get("/api/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert.equal(r.status, 404);
    assert.equal(r.body.code, "not_found");
    assert.ok(!r.text.includes("script"));
  });

  it("the seed's route parse leak: odd and traversal paths answer 400/404 and echo nothing", async () => {
    for (const path of ["/git.new/anything", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fpackage.json", "/%00", "/a/%E0%A4%A", "/.env"]) {
      const r = await server.client().get(path);
      assert.ok([400, 403, 404].includes(r.status), `${path} → ${r.status}`);
      assert.ok(!r.text.includes("passwd") && !r.text.includes("git.new") && !r.text.includes("dependencies"), path);
    }
    // The static folder itself still serves.
    const home = await server.client().get("/");
    assert.equal(home.status, 200);
    assert.match(home.text, /AgencyIQ/);
  });

  it("no error path answered 500 or logged an unhandled error", () => {
    assert.ok(!server.logs.some((l) => l.msg === "Unhandled error"));
  });
});
