// Shared set-up for the publishing tests: users with a plan and connections
// made through the real OAuth flow against the sandbox, approved posts, and
// the sandbox's own record of what it published.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { posts, type Platform } from "../../shared/schema.ts";
import { rowsOf } from "../../server/db/index.ts";
import type { Deps } from "../../server/deps.ts";
import { grantPlan } from "../../server/quota/grant.ts";
import { quotaFor } from "../../server/quota/plans.ts";
import type { Client } from "../support/client.ts";
import { connectPlatform } from "../support/connect.ts";
import { signedUpClient, type TestServer } from "../support/server.ts";
import { spawnServerOnFreePort, type ServerProcess } from "../support/process.ts";

/** Small numbers so retries happen within a test; a big plan so quota never runs out by accident. */
export const FAST_PUBLISHING = {
  PLAN_PROFESSIONAL_POSTS: "5000",
  RUNNER_LEASE_SECONDS: "30",
  PUBLISH_BACKOFF_BASE_MS: "1000",
  PUBLISH_BACKOFF_MAX_MS: "4000",
  // The reconcile delay must be at least 1.5 × the platform timeout (server/config.ts).
  PUBLISH_RECONCILE_DELAY_MS: "3000",
  PUBLISH_RECONCILE_SECOND_LOOK_MS: "1000",
  PUBLISH_MAX_ATTEMPTS: "6",
  BREAKER_FAILURE_THRESHOLD: "1000",
  BREAKER_COOLDOWN_SECONDS: "2",
  PLATFORM_HTTP_TIMEOUT_MS: "2000",
  RUNNER_CONCURRENCY_PER_PLATFORM: "8",
  RUNNER_CONCURRENCY_PER_CONNECTION: "2",
};

export async function givePlan(deps: Deps, userId: number, plan: "starter" | "growth" | "professional" = "professional"): Promise<void> {
  await deps.db.transaction((tx) => grantPlan(tx, { userId, plan, source: "test", now: deps.clock.now(), quotaFor: quotaFor(deps.config) }));
}

export interface Publisher {
  client: Client;
  userId: number;
  phone: string;
  /** The sandbox account name its connections belong to. */
  account: string;
}

/** A signed-up user with a plan and the given platforms connected as sandbox account `account`. */
export async function publisher(
  server: TestServer,
  platforms: readonly Platform[],
  account: string,
  plan: "starter" | "professional" = "professional",
  sandboxUrl?: string,
): Promise<Publisher> {
  const { client, user, identity } = await signedUpClient(server, account.replace(/[^a-z0-9]/gi, "").slice(0, 10) || "p");
  await givePlan(server.deps, user.id, plan);
  for (const p of platforms) {
    if (sandboxUrl) await connectStandalone(client, p, account);
    else await connectPlatform(client, p, account);
  }
  return { client, userId: user.id, phone: identity.phone, account };
}

/** The OAuth flow against a standalone sandbox (another origin than the server): consent page and form by absolute URL. */
async function connectStandalone(client: Client, platform: Platform, account: string): Promise<void> {
  const start = await client.get(`/auth/${platform}`);
  const authorize = start.headers.get("location");
  assert.ok(start.status === 302 && authorize, `start ${platform}: ${start.status}`);
  const page = await fetch(authorize);
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 200));
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(m[1]!, m[2]!.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">"));
  }
  fields.set("user", account);
  fields.set("decision", "allow");
  const u = new URL(authorize);
  const decided = await fetch(`${u.origin}${u.pathname}`, { method: "POST", body: fields, redirect: "manual" });
  const back = new URL(decided.headers.get("location")!);
  const done = await client.get(back.pathname + back.search);
  assert.ok(done.status === 200 && done.text.includes('"oauth_success"'), `connect ${platform}: ${done.status} ${done.text.slice(0, 200)}`);
}

/** Media every platform accepts: Instagram needs an image, YouTube a video. */
export function mediaFor(sandboxUrl: string, platform: Platform): string | null {
  if (platform === "youtube") return `${sandboxUrl}/_media/sample.mp4`;
  if (platform === "instagram") return `${sandboxUrl}/_media/sample.jpg`;
  return null;
}

/** Inserts approved posts due now (the way approval leaves them), with unique texts. */
export async function approvedPosts(deps: Deps, sandboxUrl: string, owners: Array<{ userId: number; platform: Platform; count: number; tag: string }>): Promise<number[]> {
  const now = deps.clock.now();
  const values = owners.flatMap((o) =>
    Array.from({ length: o.count }, (_, i) => ({
      userId: o.userId,
      platform: o.platform,
      content: `${o.tag} post ${i} for ${o.platform} by user ${o.userId}`,
      mediaUrl: mediaFor(sandboxUrl, o.platform),
      status: "approved" as const,
      approvedAt: now,
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    })),
  );
  const ids: number[] = [];
  for (let i = 0; i < values.length; i += 500) {
    const rows = await deps.db.insert(posts).values(values.slice(i, i + 500)).returning({ id: posts.id });
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

export interface SandboxPost {
  platform: Platform;
  id: string;
  user: string;
  text: string;
}

export async function sandboxPublished(sandboxUrl: string): Promise<SandboxPost[]> {
  const r = await fetch(`${sandboxUrl}/_control/published`);
  assert.equal(r.status, 200);
  return ((await r.json()) as { posts: SandboxPost[] }).posts;
}

export async function control(sandboxUrl: string, path: string, body: unknown): Promise<any> {
  const r = await fetch(`${sandboxUrl}/_control${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.ok(r.status < 300, `${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

export async function statusCounts(deps: Deps): Promise<Record<string, number>> {
  const rows = rowsOf<{ status: string; n: number }>(await deps.db.execute(sql`select status::text, count(*)::int as n from posts group by status`));
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * The end state every publishing test checks: each post published at most
 * once on the sandbox; a published post's platform id is a sandbox post with
 * its text; failed and paused posts carry a reason; nothing in flight.
 */
export async function assertExactlyOnce(
  deps: Deps,
  sandboxUrl: string,
  opts: { allowFailed?: boolean; allowPaused?: boolean; /** The runner processes' output, searched for the lines about a doubled post. */ runnerOutput?: () => string } = {},
) {
  const all = rowsOf<{ id: number; status: string; content: string; platform: Platform; platform_post_id: string | null; error_log: string | null }>(
    await deps.db.execute(sql`select id, status::text, content, platform, platform_post_id, error_log from posts`),
  );
  const onSandbox = await sandboxPublished(sandboxUrl);
  const byText = new Map<string, SandboxPost[]>();
  for (const p of onSandbox) byText.set(`${p.platform}|${p.text}`, [...(byText.get(`${p.platform}|${p.text}`) ?? []), p]);
  const doubled = [...byText.entries()].filter(([, v]) => v.length > 1).map(([k]) => k);
  if (doubled.length) {
    const ids = all.filter((p) => doubled.includes(`${p.platform}|${p.content}`)).map((p) => p.id);
    console.error(`doubled posts ${ids.join(", ")}:\n${await historyOf(deps, ids, byText, opts.runnerOutput?.() ?? "")}`);
  }
  assert.deepEqual(doubled, [], "no text published twice");
  const sandboxIds = new Set(onSandbox.map((p) => p.id));
  for (const p of all) {
    const out = byText.get(`${p.platform}|${p.content}`) ?? [];
    if (p.status === "published") {
      assert.ok(p.platform_post_id && sandboxIds.has(p.platform_post_id), `post ${p.id} published with a real platform id`);
      assert.equal(out.length, 1, `post ${p.id} is on the sandbox once`);
      assert.equal(out[0]!.id, p.platform_post_id);
    } else if (p.status === "failed" && opts.allowFailed) {
      assert.ok(p.error_log, `failed post ${p.id} has a reason`);
      assert.equal(out.length, 0, `failed post ${p.id} is not on the sandbox`);
    } else if (p.status === "paused" && opts.allowPaused) {
      assert.ok(p.error_log, `paused post ${p.id} has a reason`);
      assert.equal(out.length, 0, `paused post ${p.id} is not on the sandbox`);
    } else {
      assert.fail(`post ${p.id} ended ${p.status}: ${p.error_log}`);
    }
  }
  return all;
}

/** What the database, the sandbox and the runners recorded of some posts: for a failure's message. */
async function historyOf(deps: Deps, ids: number[], byText: Map<string, SandboxPost[]>, runnerOutput: string): Promise<string> {
  if (!ids.length) return "";
  const list = sql.join(ids.map((id) => sql`${id}`), sql`, `);
  const rows = rowsOf<Record<string, unknown>>(
    await deps.db.execute(sql`select id, platform, content, status::text, attempt_count, reconcile_looks, last_attempt_at, platform_post_id, error_log from posts where id in (${list})`),
  );
  const logs = rowsOf<Record<string, unknown>>(
    await deps.db.execute(sql`select post_id, attempt, status, error_code, error_message, duration_ms, created_at from post_logs where post_id in (${list}) order by created_at, id`),
  );
  const lines = runnerOutput.split("\n").filter((l) => ids.some((id) => l.includes(`"postId":${id},`) || l.includes(`"postId":${id}}`)));
  return [
    ...rows.map((r) => `post ${JSON.stringify(r)}\n  on the sandbox: ${JSON.stringify(byText.get(`${r.platform}|${r.content}`) ?? [])}`),
    ...logs.map((l) => `log ${JSON.stringify(l)}`),
    ...lines.map((l) => `runner ${l}`),
  ].join("\n");
}

/**
 * For tests with runner processes: the sandbox as its own OS process (a
 * platform is another machine; in this process it would compete with the
 * test's own event loop), a test server (timers off) for set-up and checks,
 * and the environment a child server needs to publish through the same
 * sandbox and database.
 */
export async function multiProcessSetup(env: Record<string, string>) {
  const { startTestServer: start, TEST_SECRETS } = await import("../support/server.ts");
  const { startSandboxProcess } = await import("../support/sandbox-process.ts");
  const sandbox = await startSandboxProcess();
  const server = await start({ env: { ...FAST_PUBLISHING, ...env, PLATFORM_MODE: "sandbox", PLATFORM_SANDBOX_URL: sandbox.url } });
  await sandbox.serve(server.url);
  // Containers ready at once (still asked about): these tests count sends, not Instagram's processing.
  // A platform on a machine of its own (carryOutOnArrival): these tests prove that no process sends a post
  // another holds or has sent. A sandbox short of CPU beside them carried requests out seconds after their
  // callers gave up: a late landing, which is late-landing.test.ts's subject, not theirs.
  await sandbox.control("/settings", "PUT", { instagramDailyLimit: 10_000, xPostsPer15Min: 10_000, igImageProcessingMs: 0, igCarouselProcessingMs: 0, carryOutOnArrival: true });
  const childTmp = join(server.dataDir, "tmp");
  mkdirSync(childTmp, { recursive: true });
  const childEnv = (childPort: number): Record<string, string> => ({
    NODE_ENV: "test",
    PORT: String(childPort),
    PUBLIC_URL: `http://127.0.0.1:${childPort}`,
    DATABASE_URL: server.database.url!,
    DATA_DIR: server.dataDir,
    // A runner killed mid-download leaves its media spool behind: inside the data folder, removed with it.
    TMPDIR: childTmp,
    LOG_LEVEL: "warn",
    REQUIRE_PHONE_VERIFICATION: "false",
    PLATFORM_MODE: "sandbox",
    PLATFORM_SANDBOX_URL: sandbox.url,
    RUNNER_INTERVAL_SECONDS: "1",
    ...TEST_SECRETS,
    ...FAST_PUBLISHING,
    ...env,
  });
  return {
    sandbox,
    server,
    childEnv,
    async close() {
      await server.close();
      await sandbox.close();
    },
  };
}

/** Polls until no post is approved, unknown or publishing (or the time runs out). */
export async function waitSettled(deps: Deps, timeoutMs: number): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await statusCounts(deps);
    if (!c.approved && !c.unknown && !c.publishing) return c;
    if (Date.now() > until) assert.fail(`not settled after ${timeoutMs} ms: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export type RunnerProcess = ServerProcess;

/** The server (and so its runner) as one OS process, on a free port: SIGKILL kills the runner itself. */
export function spawnRunner(envFor: (port: number) => Record<string, string>): Promise<RunnerProcess> {
  return spawnServerOnFreePort({ envFor, timeoutMs: 120_000 });
}
