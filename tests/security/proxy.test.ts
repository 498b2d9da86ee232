// Per-IP limits behind a proxy (issue 19, item 3). A real HTTP proxy in front
// of the server appends the address it sees to X-Forwarded-For, as nginx's
// $proxy_add_x_forwarded_for and hosted platforms do; with TRUST_PROXY=1 the
// client's own X-Forwarded-For entries cannot choose its address.
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.ts";
import { TEST_SECRETS, startTestServer, type TestServer } from "../support/server.ts";

function startAppendingProxy(target: string): Promise<Server> {
  const upstream = new URL(target);
  const proxy = createServer((req, res) => {
    const seen = req.socket.remoteAddress!.replace(/^::ffff:/, "");
    const before = req.headers["x-forwarded-for"];
    const headers = { ...req.headers, "x-forwarded-for": before ? `${before}, ${seen}` : seen };
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  return new Promise((resolve) => proxy.listen(0, "127.0.0.1", () => resolve(proxy)));
}

/** A POST through the proxy from a chosen loopback source address (127.0.0.0/8 is all local on Linux). */
function postFrom(proxy: Server, localAddress: string, path: string, body: unknown, xff: string): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(body);
  const { port } = proxy.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, localAddress, method: "POST", path, agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "x-forwarded-for": xff } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const production = (trustProxy: string) => ({
  NODE_ENV: "production",
  DATABASE_URL: "postgres://x@localhost/x",
  PUBLIC_URL: "https://app.example.com",
  PLATFORM_MODE: "sandbox",
  ALLOW_SANDBOX_IN_PRODUCTION: "true",
  ALLOW_OUTBOX_IN_PRODUCTION: "true",
  ...TEST_SECRETS,
  TRUST_PROXY: trustProxy,
});

describe("TRUST_PROXY", () => {
  it("true is refused in production, naming what to set", () => {
    assert.throws(() => loadConfig(production("true")), (err: unknown) => err instanceof ConfigError && /TRUST_PROXY=1/.test(err.message) && /subnet/.test(err.message));
  });

  it("a hop count, names and subnets are accepted; anything else is refused", () => {
    assert.equal(loadConfig(production("1")).trustProxy, 1);
    assert.equal(loadConfig(production("loopback, 10.0.0.0/8,fd00::/8,192.168.0.0/255.255.0.0")).trustProxy, "loopback,10.0.0.0/8,fd00::/8,192.168.0.0/255.255.0.0");
    for (const bad of ["yes-please", "10.0.0.0/33", "300.1.1.1", "1.2.3.4/8/8"]) {
      assert.throws(() => loadConfig(production(bad)), ConfigError, bad);
    }
  });
});

describe("per-IP limits behind a proxy that appends the client's address", () => {
  let server: TestServer;
  let proxy: Server;
  before(async () => {
    server = await startTestServer({ env: { TRUST_PROXY: "1" } });
    proxy = await startAppendingProxy(server.url);
  });
  after(async () => {
    await new Promise((r) => proxy.close(r));
    await server.close();
  });

  it("rotating X-Forwarded-For does not escape the login limit of one address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 55; i++) {
      // A different account each time, so only the per-IP limit can stop it.
      const r = await postFrom(proxy, "127.0.0.2", "/api/auth/login", { email: `nobody${i}@example.com`, password: "wrong password" }, `203.0.113.${i}`);
      statuses.push(r.status);
    }
    assert.deepEqual(statuses.slice(0, 50), Array(50).fill(401));
    assert.deepEqual(statuses.slice(50), Array(5).fill(429));
    // Another real address behind the same proxy is not affected.
    const other = await postFrom(proxy, "127.0.0.3", "/api/auth/login", { email: "someone@example.com", password: "wrong password" }, "203.0.113.1");
    assert.equal(other.status, 401);
    const buckets = (await server.deps.database.pool.query("select distinct bucket from rate_limit_hits where bucket like 'login:ip:%'")).rows.map((r) => r.bucket);
    assert.deepEqual(buckets.sort(), ["login:ip:127.0.0.2", "login:ip:127.0.0.3"]);
  });

  it("rotating X-Forwarded-For does not escape the send-code limit of one address (SMS pumping)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 53; i++) {
      const phone = `+6148${String(i).padStart(7, "0")}`;
      statuses.push((await postFrom(proxy, "127.0.0.4", "/api/send-code", { phone }, `198.51.100.${i}`)).status);
    }
    assert.deepEqual(statuses.slice(0, 50), Array(50).fill(200));
    assert.deepEqual(statuses.slice(50), Array(3).fill(429));
    assert.equal(server.deps.sms.outbox.length, 50);
  });
});
