// Bad input is a clear 4xx naming what is wrong, never a 500 or a stack trace;
// paths are never echoed or resolved outside the static folder.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { newIdentity, startTestServer, type TestServer } from "../support/server.ts";

describe("bad input", () => {
  let server: TestServer;
  const staticDir = join(tmpdir(), `aiq-static-${process.pid}`);
  before(async () => {
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, "index.html"), "<h1>AgencyIQ</h1>");
    server = await startTestServer({ env: { STATIC_DIR: staticDir } });
    // Every answer this file gets is recorded, so the last test can say none was a 500.
    const plain = server.client;
    server.client = () => {
      const c = plain();
      const request = c.request.bind(c);
      c.request = async (...args: Parameters<typeof request>) => {
        const r = await request(...args);
        answered.push(`${args[0]} ${args[1]} → ${r.status}`);
        return r;
      };
      return c;
    };
  });
  after(async () => {
    await server.close();
    rmSync(staticDir, { recursive: true, force: true });
  });
  const answered: string[] = [];

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
    // fetch, like a browser, resolves "/%2e%2e/" before sending: that one arrives as /etc/passwd (unknown, 404).
    const expected: Record<string, [number, string]> = {
      "/git.new/anything": [404, "not_found"],
      "/%2e%2e/%2e%2e/etc/passwd": [404, "not_found"],
      "/..%2f..%2fpackage.json": [400, "bad_path"],
      "/%00": [400, "bad_path"],
      "/a/%E0%A4%A": [400, "bad_path"],
      "/.env": [404, "not_found"],
    };
    for (const [path, [status, code]] of Object.entries(expected)) {
      const r = await server.client().get(path);
      assert.deepEqual([r.status, r.body?.code], [status, code], `${path} → ${r.status} ${r.text.slice(0, 100)}`);
      assert.ok(!r.text.includes("passwd") && !r.text.includes("git.new") && !r.text.includes("dependencies"), path);
    }
    // The static folder itself still serves.
    const home = await server.client().get("/");
    assert.equal(home.status, 200);
    assert.match(home.text, /AgencyIQ/);
  });

  it("no error path answered 500 or logged an unhandled error", () => {
    assert.ok(answered.length > 10, `the answers above were recorded (${answered.length})`);
    assert.deepEqual(answered.filter((a) => / → 5\d\d$/.test(a)), []);
    assert.deepEqual(server.logs.filter((l) => l.level >= 50).map((l) => l.msg), [], "nothing logged at error level");
  });
});
