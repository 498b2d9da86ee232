// Cycle close against a reservation committed at the boundary: the close
// waits for the ledger row and counts that reservation in the closed cycle's
// analytics (it used to read used_posts unlocked and miss it, while its roll
// set the count back to 0 after the reservation committed).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { closeCycleIfDue } from "../../server/quota/close.ts";
import { reservePost } from "../../server/quota/ledger.ts";
import { needsRealPostgres } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { all, DAY, insertPost, one, subscriber } from "./helpers.ts";

describe("cycle close and a reservation in flight", () => {
  let server: TestServer;
  before(async () => {
    if (!needsRealPostgres) server = await startTestServer();
  });
  after(() => server?.close());

  // Two connections and a row lock between them: the embedded database has one connection.
  it("a reservation committed while the close waits is counted in the closed cycle", { skip: needsRealPostgres }, async () => {
    const t0 = new Date("2026-04-01T00:00:00Z");
    const boundary = new Date(t0.getTime() + 30 * DAY);
    const { user } = await subscriber(server, { plan: "growth", start: t0, tag: "lock" });
    const early = await insertPost(server, user.id, { status: "approved", at: t0 });
    const late = await insertPost(server, user.id, { status: "approved", at: t0 });
    await server.deps.db.transaction((tx) => reservePost(tx, user.id, early, new Date(t0.getTime() + DAY)));

    // A publisher's claim reserves the last post of the cycle and has not committed yet.
    let reserved!: () => void;
    const inFlight = new Promise<void>((r) => (reserved = r));
    let commit!: () => void;
    const gate = new Promise<void>((r) => (commit = r));
    const claim = server.deps.db.transaction(async (tx) => {
      assert.equal(await reservePost(tx, user.id, late, new Date(boundary.getTime() - 1)), true);
      reserved();
      await gate;
    });
    await inFlight;

    // The close starts meanwhile; it must wait on the ledger row, and only then read it.
    const closing = closeCycleIfDue(server.deps, user.id, boundary);
    const until = Date.now() + 10_000;
    for (;;) {
      const waiting = await one(
        server,
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock' and query ilike '%post_ledger%'`,
      );
      if (waiting.n > 0) break;
      assert.ok(Date.now() < until, "the close never waited for the ledger row");
      await new Promise((r) => setTimeout(r, 10));
    }
    commit();
    await claim;
    const closed = await closing;
    assert.ok(closed);
    assert.equal(closed.postsUsed, 2);

    const [a] = await all(server, "select posts_used, quota from subscription_analytics where user_id = $1", [user.id]);
    assert.deepEqual([a.quota, a.posts_used], [27, 2]);
    const reset = await one(server, "select previous_remaining, new_remaining from quota_history where user_id = $1 and reason = 'cycle_reset'", [user.id]);
    assert.deepEqual([reset.previous_remaining, reset.new_remaining], [25, 27]);
    const ledger = await one(server, "select used_posts from post_ledger where user_id = $1", [user.id]);
    assert.equal(ledger.used_posts, 0);
  });
});
