// Pooled platform connections are closed by us before the platform closes
// them: Node 20's agent ignores a server's `Keep-Alive: timeout=5`, so a
// socket idle for five seconds could be reused just as the server closed it,
// leaving a publish with no answer (outcome unknown). And the idle bound must
// not cut a slow answer short.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { IDLE_SOCKET_MS, PlatformHttp, idleSockets } from "../../server/platforms/http.ts";
import { harness, type Harness } from "./helpers.ts";

describe("platform connections kept alive", () => {
  let h: Harness;
  let http: PlatformHttp;
  let token: string;
  before(async () => {
    h = await harness();
    http = new PlatformHttp("linkedin", 10_000);
  });
  after(async () => h.close());
  beforeEach(async () => {
    await h.control("/reset", {});
    token = (await h.connect("linkedin")).accessToken;
  });

  const userinfo = () => http.request("userinfo", `${h.sandbox.url}/linkedin-api/v2/userinfo`, { bearer: token });

  it("closes an idle pooled connection before the platform's announced keep-alive timeout", async () => {
    const first = await userinfo();
    // The sandbox is an Express server with Node's defaults, like many platforms' front ends.
    assert.equal(first.headers.get("keep-alive"), "timeout=5");
    assert.ok(IDLE_SOCKET_MS < 5000, "the bound must be below the server's 5 s");
    assert.equal(idleSockets(h.sandbox.url), 1, "the connection is pooled after the answer");
    // Past our bound, still before the server's: the socket is gone because we closed it, not the server.
    await sleep(IDLE_SOCKET_MS + 600);
    assert.equal(idleSockets(h.sandbox.url), 0, "an idle connection was left for the server to close");
    const second = await userinfo();
    assert.equal(second.status, 200);
  });

  it("still waits for an answer slower than the idle bound", async () => {
    await h.control("/latency", { endpoint: "linkedin.userinfo", ms: IDLE_SOCKET_MS + 1000 });
    const reply = await userinfo();
    assert.equal(reply.status, 200);
    assert.equal(reply.body.name, "sandbox-user Sandbox");
  });
});
