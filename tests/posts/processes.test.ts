// Three runner processes on one database publishing 1,000 posts: the claim
// (FOR UPDATE SKIP LOCKED) and the lease fencing keep every post to one send.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { PLATFORMS } from "../../shared/schema.ts";
import { rowsOf } from "../../server/db/index.ts";
import { needsRealPostgres } from "../support/database.ts";
import { approvedPosts, spawnRunner, assertExactlyOnce, multiProcessSetup, publisher, waitSettled } from "./helpers.ts";

describe("three runner processes", () => {
  let setup: Awaited<ReturnType<typeof multiProcessSetup>>;
  before(async () => {
    if (needsRealPostgres) return;
    // Generous timeouts: a call that times out is safe (reconciled, never re-sent blindly) but slows the run.
    setup = await multiProcessSetup({ RUNNER_LEASE_SECONDS: "30", PLATFORM_HTTP_TIMEOUT_MS: "5000", PUBLISH_RECONCILE_DELAY_MS: "7500", PUBLISH_RECONCILE_SECOND_LOOK_MS: "5000" });
  });
  after(() => setup?.close());

  it("publish 1,000 posts together: none twice, all published", { skip: needsRealPostgres }, async () => {
    const { server, sandbox } = setup;
    const users = [];
    for (let i = 0; i < 10; i++) users.push(await publisher(server, PLATFORMS, `three${i}`, "professional", sandbox.url));
    const ids = await approvedPosts(
      server.deps,
      sandbox.url,
      users.flatMap((u) => PLATFORMS.map((platform) => ({ userId: u.userId, platform, count: 20, tag: "three" }))),
    );
    assert.equal(ids.length, 1000);
    const children = await Promise.all([1, 2, 3].map(() => spawnRunner(setup.childEnv)));
    try {
      await waitSettled(server.deps, 200_000);
    } finally {
      await Promise.all(children.map((c) => c.kill("SIGTERM")));
    }
    const all = await assertExactlyOnce(server.deps, sandbox.url, { runnerOutput: () => children.map((c) => c.output()).join("\n") });
    assert.equal(all.filter((p) => p.status === "published").length, 1000);
    // One success log per post (a send that was answered, or a lost answer found by reconciliation
    // or proven by the platform's duplicate refusal): nobody sent a post another process held.
    const [logs] = rowsOf<{ n: number; posts: number }>(
      await server.deps.db.execute(sql`select count(*)::int as n, count(distinct post_id)::int as posts from post_logs where status in ('published', 'reconciled', 'duplicate')`),
    );
    assert.equal(logs!.n, 1000);
    assert.equal(logs!.posts, 1000);
    for (const c of children) assert.doesNotMatch(c.output(), /Unhandled error|Publish attempt crashed/);
  });
});
