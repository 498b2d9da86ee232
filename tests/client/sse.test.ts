// /api/subscription-status-sse as the client's EventSource reads it
// (CLIENT.md §2): unnamed events, data {type, data, timestamp}; anonymous
// streams get only `connected` and pings; a plan granted (gift, billing) or
// ended (cancel) is pushed — through PostgreSQL NOTIFY, so also to a stream
// held by another process on the same database.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createCertificates } from "../../server/onboarding/gift-service.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../support/client.ts";
import { needsRealPostgres } from "../support/database.ts";
import { spawnServerOnFreePort, type ServerProcess } from "../support/process.ts";
import { signedUpClient, startTestServer, TEST_SECRETS, type TestServer } from "../support/server.ts";

interface Event {
  type: string;
  data: any;
  timestamp: string;
}

/** An EventSource in miniature: reads the stream, keeps every event and the raw text. */
async function openStream(baseUrl: string, client?: Client) {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/subscription-status-sse`, {
    headers: { accept: "text/event-stream", ...(client?.cookies.size ? { cookie: client.cookieHeader } : {}) },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events: Event[] = [];
  let raw = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body!) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true });
        raw += text;
        buffer += text;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) events.push(JSON.parse(data));
        }
      }
    } catch {
      /* aborted or ended */
    }
  })();
  return {
    events,
    raw: () => raw,
    /** Waits (generous deadline, polling) for the n-th event of a type after index `from`. */
    async next(type: string, from = 0, deadlineMs = 30_000): Promise<Event> {
      const end = Date.now() + deadlineMs;
      for (;;) {
        const found = events.slice(from).find((e) => e.type === type);
        if (found) return found;
        if (Date.now() > end) throw new Error(`no ${type} event; got ${events.map((e) => e.type).join(",")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

describe("subscription status stream", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { SSE_PING_SECONDS: "1" } });
  });
  after(() => server.close());

  const newCode = async (plan: "starter" | "professional" = "professional") =>
    (await createCertificates(server.deps.db, { plan, createdFor: "SSE test", count: 1, now: server.clock.now() }))[0]!;

  it("anonymous: connected, then only pings — even while plans change", async () => {
    const s = await openStream(server.url);
    const connected = await s.next("connected");
    assert.equal(connected.data.authenticated, false);
    assert.ok(!Number.isNaN(Date.parse(connected.timestamp)));
    const u = await signedUpClient(server, "sseother");
    assert.equal((await u.client.post("/api/redeem-gift-certificate", { code: await newCode() })).status, 200);
    const seen = s.events.length;
    await s.next("ping", seen);
    await s.next("ping", s.events.findIndex((e, i) => i >= seen && e.type === "ping") + 1);
    assert.deepEqual([...new Set(s.events.map((e) => e.type))].sort(), ["connected", "ping"]);
    assert.doesNotMatch(s.raw(), /^event:/m, "unnamed events only");
    await s.close();
  });

  it("logged in: the status on connect, a granted plan pushed, a cancellation pushed as subscription_cancelled", async () => {
    const u = await signedUpClient(server, "sseuser");
    const s = await openStream(server.url, u.client);
    assert.equal((await s.next("connected")).data.authenticated, true);
    const first = await s.next("subscription_status");
    assert.deepEqual([first.data.plan, first.data.active, first.data.remainingPosts, first.data.totalPosts], [null, false, 0, 0]);

    let mark = s.events.length;
    assert.equal((await u.client.post("/api/redeem-gift-certificate", { code: await newCode("starter") })).status, 200);
    const granted = await s.next("subscription_status", mark);
    assert.deepEqual([granted.data.plan, granted.data.active, granted.data.remainingPosts, granted.data.totalPosts], ["starter", true, 12, 12]);
    assert.equal(granted.data.usage.totalAllocation, 12);

    mark = s.events.length;
    assert.equal((await u.client.post("/api/cancel-subscription", {})).status, 200);
    const cancelled = await s.next("subscription_cancelled", mark);
    assert.equal(cancelled.data.active, false);
    assert.equal(cancelled.data.action, "clearSession");
    assert.equal(typeof cancelled.data.redirectTo, "string");
    await s.close();
  });

  it("another user's change is not sent to this user", async () => {
    const me = await signedUpClient(server, "sseme");
    const s = await openStream(server.url, me.client);
    await s.next("subscription_status");
    const other = await signedUpClient(server, "ssethem");
    assert.equal((await other.client.post("/api/redeem-gift-certificate", { code: await newCode() })).status, 200);
    // Two pings later nothing else has arrived for this stream.
    const seen = s.events.length;
    await s.next("ping", seen);
    await s.next("ping", s.events.findIndex((e, i) => i >= seen && e.type === "ping") + 1);
    assert.equal(s.events.filter((e) => e.type === "subscription_status").length, 1);
    await s.close();
  });
});

describe("subscription status stream across processes", { skip: needsRealPostgres }, () => {
  let a: TestServer;
  let b: ServerProcess;
  let dataDir: string;
  before(async () => {
    a = await startTestServer({ env: { SSE_PING_SECONDS: "1" } });
    dataDir = mkdtempSync(join(tmpdir(), "aiq-sse-b-"));
    b = await spawnServerOnFreePort({
      timeoutMs: 60_000,
      envFor: (port) => ({ NODE_ENV: "test", PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: dataDir, DATABASE_URL: a.database.url, LOG_LEVEL: "warn", ...TEST_SECRETS }),
    });
  });
  after(async () => {
    await b?.kill();
    await a.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a plan granted by another OS process reaches this process's stream", async () => {
    const u = await signedUpClient(a, "ssex");
    const s = await openStream(a.url, u.client);
    await s.next("subscription_status");
    const mark = s.events.length;
    const [code] = await createCertificates(a.deps.db, { plan: "professional", createdFor: "SSE test", count: 1, now: a.clock.now() });
    // The same browser session, served by the other process (sessions live in PostgreSQL).
    const onB = new Client(b.url);
    onB.cookies = new Map(u.client.cookies);
    const r = await onB.post("/api/redeem-gift-certificate", { code: code! });
    assert.equal(r.status, 200, r.text);
    const granted = await s.next("subscription_status", mark);
    assert.equal(granted.data.plan, "professional");
    assert.equal(granted.data.totalPosts, 52);
    await s.close();
  });
});

describe("subscription status stream at shutdown", () => {
  it("an open stream is ended by stop(), which does not wait for the client to leave", async () => {
    const server = await startTestServer();
    const u = await signedUpClient(server, "ssestop");
    const s = await openStream(server.url, u.client);
    await s.next("subscription_status");
    await server.close();
    // The server ended the response: the reader finishes on its own.
    await s.close();
    assert.equal(s.events[0]!.type, "connected");
  });
});
