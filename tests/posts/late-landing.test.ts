// A platform may carry out a request after we gave up on it. The sandbox's
// "late" fault holds a request until the test releases it, so the order of
// events is decided by the test, not by the machine's load: the runner (its
// reconciliation timed by the test clock) against the sandbox in its own
// process, at the default ratio of reconcile delay to timeout (1.5).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { posts, postLogs, type Platform } from "../../shared/schema.ts";
import { ConfigError, loadConfig, MIN_RECONCILE_DELAY_PER_TIMEOUT } from "../../server/config.ts";
import { OutcomeUnknownError } from "../../server/platforms/errors.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { tokenFor } from "../../server/posts/tokens.ts";
import { spawnProcess } from "../support/process.ts";
import { startSandboxProcess, type SandboxProcess } from "../support/sandbox-process.ts";
import { startTestServer, TEST_SECRETS, type TestServer } from "../support/server.ts";
import { approvedPosts, FAST_PUBLISHING, publisher, sandboxPublished } from "./helpers.ts";

const TIMEOUT_MS = 1_000;
const RECONCILE_DELAY_MS = TIMEOUT_MS * MIN_RECONCILE_DELAY_PER_TIMEOUT;
const SETTLE_MS = RECONCILE_DELAY_MS - TIMEOUT_MS;
const SECOND_LOOK_MS = 1_500;

describe("requests the platform carries out after we gave up", () => {
  let server: TestServer;
  let sandbox: SandboxProcess;
  before(async () => {
    sandbox = await startSandboxProcess();
    server = await startTestServer({
      env: {
        ...FAST_PUBLISHING,
        PLATFORM_MODE: "sandbox",
        PLATFORM_SANDBOX_URL: sandbox.url,
        PLATFORM_HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
        PUBLISH_RECONCILE_DELAY_MS: String(RECONCILE_DELAY_MS),
        PUBLISH_RECONCILE_SECOND_LOOK_MS: String(SECOND_LOOK_MS),
        PUBLISH_MAX_ATTEMPTS: "2",
      },
    });
    await sandbox.serve(server.url);
  });
  after(async () => {
    await server?.close();
    await sandbox?.close();
  });

  const db = () => server.deps.db;
  const rowOf = async (id: number) => (await db().select().from(posts).where(eq(posts.id, id)))[0]!;
  const calls = async (endpoint: string) => ((await sandbox.control(`/calls?endpoint=${endpoint}`, "GET")).calls as unknown[]).length;
  const live = async (platform: Platform, text: string) => (await sandboxPublished(sandbox.url)).filter((p) => p.platform === platform && p.text === text);
  const drain = (id: number) => publishRunner(server.deps).drain({ postIds: [id] });
  /** Carries out the held request and waits until the sandbox has the post. */
  async function landLate(platform: Platform, text: string): Promise<string> {
    assert.equal((await sandbox.control("/release")).released, 1, "one request was held");
    for (let i = 0; i < 200; i++) {
      const out = await live(platform, text);
      if (out.length) return out[0]!.id;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail("the late request never landed");
  }
  async function lateUnknownPost(userId: number, platform: Platform, endpoint: string, tag: string) {
    const [id] = await approvedPosts(server.deps, sandbox.url, [{ userId, platform, count: 1, tag }]);
    await sandbox.control("/faults", "POST", { endpoint, mode: "late" });
    const r = await drain(id!);
    assert.equal(r.unknown, 1, `the call timed out: ${JSON.stringify(r.errors)}`);
    const row = await rowOf(id!);
    assert.equal(row.status, "unknown");
    assert.ok(row.nextAttemptAt!.getTime() >= server.clock.now().getTime() + SETTLE_MS, "not looked for before its deadline plus the settle margin");
    return { id: id!, text: row.content };
  }

  it("landed within the settle margin: found on the first look, never sent again", async () => {
    const u = await publisher(server, ["facebook"], "late1", "professional", sandbox.url);
    const { id, text } = await lateUnknownPost(u.userId, "facebook", "facebook.publish", "late1");
    assert.equal((await drain(id)).processed, 0, "nothing happens before the margin has passed");
    const platformId = await landLate("facebook", text);
    server.clock.advance(SETTLE_MS);
    const r = await drain(id);
    assert.equal(r.published, 1, JSON.stringify(r.errors));
    const row = await rowOf(id);
    assert.equal(row.platformPostId, platformId);
    assert.equal(row.attemptCount, 1);
    assert.equal(await calls("facebook.publish"), 1, "one send");
    assert.equal((await live("facebook", text)).length, 1);
  });

  it("landed after the first look: the second look finds it before any re-send", async () => {
    const u = await publisher(server, ["facebook"], "late2", "professional", sandbox.url);
    const sendsBefore = await calls("facebook.publish");
    const { id, text } = await lateUnknownPost(u.userId, "facebook", "facebook.publish", "late2");
    server.clock.advance(SETTLE_MS);
    const first = await drain(id);
    assert.equal(first.unknown, 1, JSON.stringify(first.errors));
    assert.equal((await rowOf(id)).reconcileLooks, 1);
    assert.equal(await calls("facebook.publish"), sendsBefore + 1, "no re-send after one empty look");
    const platformId = await landLate("facebook", text);
    server.clock.advance(SECOND_LOOK_MS);
    const r = await drain(id);
    assert.equal(r.published, 1, JSON.stringify(r.errors));
    assert.equal((await rowOf(id)).platformPostId, platformId);
    assert.equal(await calls("facebook.publish"), sendsBefore + 1, "still one send");
    const logs = await db().select().from(postLogs).where(eq(postLogs.postId, id)).orderBy(postLogs.id);
    assert.deepEqual(logs.map((l) => l.status), ["unknown", "not_found", "reconciled"]);
  });

  it("LinkedIn (no listing): the re-send is the look; landing before or after it, one post goes out", async () => {
    const u = await publisher(server, ["linkedin"], "late3", "professional", sandbox.url);
    // Landed before the re-send: LinkedIn refuses the re-send as a duplicate naming the live post.
    const a = await lateUnknownPost(u.userId, "linkedin", "linkedin.posts.create", "late3a");
    const liveId = await landLate("linkedin", a.text);
    server.clock.advance(SETTLE_MS);
    const ra = await drain(a.id);
    assert.equal(ra.published, 1, JSON.stringify(ra.errors));
    assert.equal((await rowOf(a.id)).platformPostId, liveId, "the URN LinkedIn named is adopted");
    assert.equal((await sandbox.control("/calls?endpoint=linkedin.posts.list", "GET")).calls.length, 0, "a member's posts are never listed");

    // Landing after the re-send (the worst order): the late request is the duplicate, refused.
    const b = await lateUnknownPost(u.userId, "linkedin", "linkedin.posts.create", "late3b");
    server.clock.advance(SETTLE_MS);
    const rb = await drain(b.id);
    assert.equal(rb.published, 1, JSON.stringify(rb.errors));
    // The sandbox carries a released request out before it reads its next request.
    assert.equal((await sandbox.control("/release")).released, 1);
    const out = await live("linkedin", b.text);
    assert.equal(out.length, 1, "one LinkedIn post");
    assert.equal((await rowOf(b.id)).platformPostId, out[0]!.id);
    assert.equal(await calls("linkedin.posts.create"), 4, "two sends per post, one refused each time");
  });

  it("a post whose sends never get an answer fails after PUBLISH_MAX_ATTEMPTS, says it may be live, keeps its quota and tells the user once", async () => {
    const u = await publisher(server, ["facebook"], "late4", "professional", sandbox.url);
    const [id] = await approvedPosts(server.deps, sandbox.url, [{ userId: u.userId, platform: "facebook", count: 1, tag: "late4" }]);
    const sendsBefore = await calls("facebook.publish");
    // Every send outlives the timeout and is then refused: nothing is published, nothing answers in time.
    await sandbox.control("/latency", "POST", { endpoint: "facebook.publish", ms: TIMEOUT_MS * 2 });
    await sandbox.control("/faults", "POST", { endpoint: "facebook.publish", times: 10, status: 500 });
    try {
      // send 1 → unknown; look 1, look 2 (then send 2) → unknown; look 1, look 2 → the cap.
      const steps: Array<[number, "unknown" | "failed"]> = [
        [0, "unknown"],
        [SETTLE_MS, "unknown"],
        [SECOND_LOOK_MS, "unknown"],
        [SETTLE_MS, "unknown"],
        [SECOND_LOOK_MS, "failed"],
      ];
      for (const [i, [wait, outcome]] of steps.entries()) {
        server.clock.advance(wait);
        const r = await drain(id!);
        assert.equal(r[outcome], 1, `step ${i}: ${JSON.stringify(r.errors)}`);
      }
    } finally {
      await sandbox.control("/faults", "DELETE");
    }
    const row = await rowOf(id!);
    assert.equal(row.status, "failed");
    assert.match(row.errorLog ?? "", /never answered 2 attempts.*may be live/);
    assert.equal(row.attemptCount, 2);
    assert.equal(row.quotaReserved, true, "it may be live: its quota stays spent");
    assert.equal(await calls("facebook.publish"), sendsBefore + 2);
    const mails = () => server.deps.mailer.outbox.filter((m) => m.subject.includes("may or may not have gone out"));
    assert.equal(mails().length, 1);
    assert.match(mails()[0]!.text, /late4 post 0/);
  });

  it("start-up refuses a reconcile delay that is not comfortably longer than the platform timeout, naming both variables", async () => {
    assert.throws(
      () => loadConfig({ PUBLISH_RECONCILE_DELAY_MS: "1000", PLATFORM_HTTP_TIMEOUT_MS: "1000", ...TEST_SECRETS }),
      (e: unknown) => e instanceof ConfigError && /PUBLISH_RECONCILE_DELAY_MS \(1000\)/.test(e.message) && /PLATFORM_HTTP_TIMEOUT_MS \(1000\)/.test(e.message),
    );
    assert.doesNotThrow(() => loadConfig({ PUBLISH_RECONCILE_DELAY_MS: "1500", PLATFORM_HTTP_TIMEOUT_MS: "1000", ...TEST_SECRETS }));
    const p = spawnProcess({ env: { NODE_ENV: "test", PORT: "5999", DATA_DIR: server.dataDir, PUBLISH_RECONCILE_DELAY_MS: "25000", ...TEST_SECRETS } });
    assert.equal(await p.exited, 1);
    assert.match(p.output(), /PUBLISH_RECONCILE_DELAY_MS \(25000\) must be at least 1\.5 × PLATFORM_HTTP_TIMEOUT_MS \(20000\)/);
    assert.doesNotMatch(p.output(), /at .*\.ts:\d+/, "no stack trace");
  });

  it("a request read only after its caller gave up is carried out late, as by a real platform; with carryOutOnArrival (the multi-process tests' sandbox) not at all", async () => {
    const u = await publisher(server, ["facebook"], "late5", "professional", sandbox.url);
    const token = await tokenFor(server.deps, u.userId, "facebook");
    const credentials = token.ok ? token.credentials : assert.fail(`not connected: ${token.message}`);
    const facebook = server.deps.platforms.facebook;
    const abandonedCount = async () => (await sandbox.control("/held", "GET")).abandoned as number;
    async function until(what: string, probe: () => Promise<boolean>) {
      for (const end = Date.now() + 60_000; !(await probe()); await new Promise((r) => setTimeout(r, 25))) assert.ok(Date.now() < end, what);
    }
    /**
     * Sends with the sandbox stopped (SIGSTOP): the kernel takes the request, the
     * sandbox reads it only after the caller's timeout closed the connection. A
     * call just before keeps the pooled connection fresh (not one the sandbox
     * is about to close for idleness).
     */
    async function sendWhileStopped(text: string) {
      await facebook.listRecentPosts(credentials, new Date(0));
      process.kill(sandbox.pid, "SIGSTOP");
      try {
        await assert.rejects(facebook.publish(credentials, { content: text }), OutcomeUnknownError);
      } finally {
        process.kill(sandbox.pid, "SIGCONT");
      }
    }

    await sendWhileStopped("Read after its caller gave up, carried out late");
    await until("the late request landed", async () => (await live("facebook", "Read after its caller gave up, carried out late")).length === 1);

    await sandbox.control("/settings", "PUT", { carryOutOnArrival: true });
    try {
      const before = await abandonedCount();
      await sendWhileStopped("Read after its caller gave up, never carried out");
      await until("the sandbox read the abandoned request", async () => (await abandonedCount()) === before + 1);
      assert.deepEqual(await live("facebook", "Read after its caller gave up, never carried out"), []);
      // A call read while its caller waits is carried out as ever.
      const answered = await facebook.publish(credentials, { content: "Read in time, carried out" });
      assert.deepEqual((await live("facebook", "Read in time, carried out")).map((p) => p.id), [answered.platformPostId]);
    } finally {
      await sandbox.control("/settings", "PUT", { carryOutOnArrival: false });
    }
  });
});
