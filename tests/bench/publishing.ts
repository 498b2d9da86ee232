// Bench: the publishing runner end to end — claim (SKIP LOCKED) + quota
// reservation, token, platform call over HTTP, fenced completion with its
// post_logs and post_analytics rows — for 10,000 due posts, first with a
// zero-latency sandbox, then with 200 ms per publish call to compare
// throughput with the concurrency bound (per platform × platforms / latency).
//
// The sandbox runs as its own process (`npm run sandbox`), as a platform is
// another machine in production: the CPU measured here is the runner's
// process alone (runner, pg client, HTTP client, logging).
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { PLATFORMS } from "../../shared/schema.ts";
import { rowsOf } from "../../server/db/index.ts";
import type { Deps } from "../../server/deps.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { approvedPosts, FAST_PUBLISHING, publisher, sandboxPublished, statusCounts, type Publisher } from "../posts/helpers.ts";
import { startSandboxProcess } from "../support/sandbox-process.ts";
import type { TestClock } from "../support/clock.ts";
import { startTestServer } from "../support/server.ts";
import { countStatements } from "../support/statements.ts";
import { benchHttpFloor, type HttpFloor } from "./http-floor.ts";
import { postgresCpuSince, processCpuMs } from "./proc-cpu.ts";

const USERS = 50;
const POSTS = Number(process.env.BENCH_PUBLISHING_POSTS ?? 10_000);
/**
 * The platform latencies to run, in order. Zero three times: the machine is
 * shared, so the comparison with graphile-worker pairs three runs of each.
 */
const LATENCIES = (process.env.BENCH_PUBLISHING_LATENCIES ?? "0,0,0,200").split(",").map(Number);
const PUBLISH_ENDPOINTS = ["facebook.publish", "instagram.media_publish", "linkedin.posts.create", "x.tweets.create", "youtube.upload.put"];

export interface PublishingRun {
  posts: number;
  latencyMs: number;
  seconds: number;
  postsPerSecond: number;
  published: number;
  /** CPU time of the runner's process (runner, pg client, HTTP client, logs) per published post. */
  cpuMsPerPost: number;
  /** CPU time / wall time: near 1 means one core is saturated (Node runs JS on one). */
  cpuShare: number;
  /** CPU of the PostgreSQL backends serving the bench's database, per post (Linux /proc; 0 elsewhere). */
  dbCpuMsPerPost: number;
  /** CPU of the sandbox's process per post: in production that is the platforms' machines. */
  sandboxCpuMsPerPost: number;
  /** Statements the runner sent to PostgreSQL per post (counted at the driver's client). */
  statementsPerPost: number;
  /** Platform calls the sandbox received per post (YouTube and Instagram make three, the others one). */
  platformCallsPerPost: number;
  /** perPlatform × 5 platforms / latency: the most the bounds allow (null at zero latency). */
  boundPostsPerSecond: number | null;
  /**
   * With latency: seconds from the drain's start until each platform's last post was published. The
   * bound assumes a slot is held only for the delayed publish call; YouTube and Instagram posts also
   * hold theirs through their other calls and state writes, so they finish last.
   */
  platformSeconds: Partial<Record<string, number>>;
  /** Posts the timed drain left for a later attempt (not counted in its rate), finished after it: how they ended up there. */
  leftovers: string[];
}

/**
 * Moves the server's clock (a test clock: the bench's time stands still) to
 * each post the drain left for later as it falls due (a retry's backoff, an
 * unknown outcome's reconciliation delay) and drains again, until all are
 * done; returns what left each one behind.
 */
async function finishLeftovers(deps: Deps, clock: TestClock): Promise<string[]> {
  const rows = rowsOf<{ platform: string; status: string; error_log: string | null }>(
    await deps.db.execute(sql`select platform::text, status::text, error_log from posts where status in ('approved', 'unknown') order by id`),
  );
  const reasons = rows.map((r) => `${r.platform} ${r.status}: ${r.error_log ?? "no reason"}`);
  for (let round = 0; ; round++) {
    const [next] = rowsOf<{ at: number | null }>(
      await deps.db.execute(sql`select (extract(epoch from min(next_attempt_at)) * 1000)::float8 as at from posts where status in ('approved', 'unknown')`),
    );
    if (next?.at == null) return reasons;
    if (round === 20) throw new Error(`posts still not published after 20 more drains: ${reasons.join("; ")}`);
    if (next.at > clock.now().getTime()) clock.set(new Date(next.at));
    await publishRunner(deps).drain();
  }
}

export interface BenchPublishingOptions {
  /**
   * Called after each measured zero-latency run, before the next: the
   * yardstick runs here, so each pair is measured under the same conditions
   * of a shared machine.
   */
  afterZeroLatencyRun?: (run: PublishingRun) => Promise<void>;
}

/** Runs fn counting the statements that reach the database driver's client (pg.Pool or PGlite). */

/**
 * BENCH_PROFILE=<folder>: a V8 CPU profile of each drain (the runner's process, the drain
 * only) written there as <name>.cpuprofile, for Chrome DevTools or any profile reader.
 */
async function profiled(name: string, fn: () => Promise<void>): Promise<void> {
  const folder = process.env.BENCH_PROFILE;
  if (!folder) return fn();
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/**
 * Polls, on a connection of its own (the runner's statement count stays its own), the published count
 * of each platform four times a second until `done`, and returns when each reached `perPlatform`
 * (a quarter of a second late at most).
 * Only for runs with latency: the zero-latency runs' CPU stays the runner's alone.
 */
async function platformFinishTimes(url: string, perPlatform: number, t0: number, done: Promise<unknown>): Promise<Partial<Record<string, number>>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const finished: Partial<Record<string, number>> = {};
  let over = false;
  // Either way the drain ended (its failure is reported where it is awaited).
  done.then(() => (over = true), () => (over = true));
  try {
    for (;;) {
      // One last look after the drain ends: a platform that finished since the previous poll is timed then (≤ 0.25 s late).
      const last = over;
      const { rows } = await client.query<{ platform: string; n: number }>("select platform::text, count(*)::int as n from posts where status = 'published' group by 1");
      for (const r of rows) if (r.n >= perPlatform && finished[r.platform] === undefined) finished[r.platform] = (performance.now() - t0) / 1000;
      if (last || Object.keys(finished).length === PLATFORMS.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.end();
  }
  return finished;
}

/** A first, unmeasured run of this many posts: JIT, connections and caches warm, as in steady operation. */
const WARM_UP_POSTS = 2_000;

export async function benchPublishing(options: BenchPublishingOptions = {}): Promise<{ perPlatform: number; perConnection: number; runs: PublishingRun[]; httpFloor: HttpFloor }> {
  const sandbox = await startSandboxProcess();
  // warn: the test server's log sink parses every line, which is the harness's cost, not the runner's.
  const server = await startTestServer({
    env: { ...FAST_PUBLISHING, RUNNER_LEASE_SECONDS: "300", PLATFORM_HTTP_TIMEOUT_MS: "20000", PUBLISH_RECONCILE_DELAY_MS: "30000", PLATFORM_MODE: "sandbox", PLATFORM_SANDBOX_URL: sandbox.url, LOG_LEVEL: "warn" },
  });
  await sandbox.serve(server.url);
  const { perPlatform, perConnection } = server.deps.config.publishing;
  const dbName = new URL(server.database.url!).pathname.slice(1);
  /** Platform calls the sandbox has received so far (its control API is not counted). */
  const sandboxCalls = async () => ((await sandbox.control("/calls", "GET")) as { calls: unknown[] }).calls.length;
  try {
    await sandbox.control("/settings", "PUT", { instagramDailyLimit: 1_000_000, xPostsPer15Min: 1_000_000, igImageProcessingMs: 0 });
    const users: Publisher[] = [];
    for (let i = 0; i < USERS; i++) users.push(await publisher(server, PLATFORMS, `bench${i}`, "professional", sandbox.url));
    const runs: PublishingRun[] = [];
    const publishAll = async (posts: number, latencyMs: number, tag: string) => {
      await server.deps.db.execute(sql`delete from posts`);
      await sandbox.control("/faults", "DELETE");
      for (const endpoint of PUBLISH_ENDPOINTS) if (latencyMs) await sandbox.control("/latency", "POST", { endpoint, ms: latencyMs });
      const perAccount = posts / USERS / PLATFORMS.length;
      await approvedPosts(server.deps, sandbox.url, users.flatMap((u) => PLATFORMS.map((platform) => ({ userId: u.userId, platform, count: perAccount, tag }))));
      const calls0 = await sandboxCalls();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const dbCpu = postgresCpuSince(dbName);
      const sandbox0 = processCpuMs(sandbox.pid);
      const drained = countStatements(server.deps.db, () => profiled(`publishing-${tag}`, async () => void (await publishRunner(server.deps).drain())));
      const finishing = latencyMs ? platformFinishTimes(server.database.url!, perAccount * USERS, t0, drained) : Promise.resolve({});
      const statements = await drained;
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const dbCpuMs = dbCpu();
      const sandboxCpuMs = processCpuMs(sandbox.pid) - sandbox0;
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const published = (await statusCounts(server.deps)).published ?? 0;
      const platformCalls = (await sandboxCalls()) - calls0;
      // A post the drain left for later (an answer lost, e.g. a keep-alive socket the sandbox closed
      // just as the runner reused it: `unknown`, reconciled after the delay) is finished outside the
      // measurement, as the runner's timer would, and reported: the run still proves every post
      // published exactly once.
      const platformSeconds = await finishing;
      const leftovers = published < posts ? await finishLeftovers(server.deps, server.clock) : [];
      const finallyPublished = (await statusCounts(server.deps)).published ?? 0;
      // The platform's side of the count: every post made once.
      const made = (await sandboxPublished(sandbox.url)).filter((p) => p.text.startsWith(`${tag} `)).length;
      assert.equal(made, finallyPublished, "the sandbox holds exactly the posts marked published");
      assert.equal(finallyPublished, posts, "every post published");
      return {
        posts,
        latencyMs,
        seconds,
        postsPerSecond: published / seconds,
        published,
        cpuMsPerPost: cpuMs / Math.max(1, published),
        cpuShare: cpuMs / 1000 / seconds,
        dbCpuMsPerPost: dbCpuMs / Math.max(1, published),
        sandboxCpuMsPerPost: sandboxCpuMs / Math.max(1, published),
        statementsPerPost: statements / Math.max(1, published),
        platformCallsPerPost: platformCalls / Math.max(1, published),
        boundPostsPerSecond: latencyMs ? (perPlatform * PLATFORMS.length * 1000) / latencyMs : null,
        platformSeconds,
        leftovers,
      };
    };
    await publishAll(WARM_UP_POSTS, 0, "warm-up");
    for (const latencyMs of LATENCIES) {
      const run = await publishAll(POSTS, latencyMs, `bench${runs.length}`);
      runs.push(run);
      if (latencyMs === 0) await options.afterZeroLatencyRun?.(run);
    }
    // The HTTP client's share, against the same sandbox process (http-floor.ts).
    const httpFloor = await benchHttpFloor(sandbox.url);
    return { perPlatform, perConnection, runs, httpFloor };
  } finally {
    await sandbox.close();
    await server.close();
  }
}
