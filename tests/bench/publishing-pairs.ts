// Our runner's zero-latency publishing runs, each paired with graphile-worker
// running as many no-op jobs on the same PostgreSQL right after it (the
// yardstick), with our runner's concurrency: each pair gives a ratio measured
// under the same conditions of a shared machine.
import { loadavg } from "node:os";
import { createTestDatabase } from "../support/database.ts";
import { benchGraphileNoop } from "./graphile-noop.ts";
import { benchPublishing } from "./publishing.ts";

const GRAPHILE_CONCURRENCY = 8 * 5; // our runner: 8 calls per platform × 5 platforms

export interface PublishingPair {
  oursPostsPerSecond: number;
  graphileJobsPerSecond: number;
  ratio: number;
  loadAverage: number;
}

export async function benchPublishingPairs() {
  const graphile = async (jobs: number) => {
    const gdb = await createTestDatabase();
    try {
      return await benchGraphileNoop(gdb.url!, jobs, GRAPHILE_CONCURRENCY);
    } finally {
      await gdb.drop();
    }
  };
  await graphile(2_000); // warm-up, like ours
  const pairs: PublishingPair[] = [];
  const publishing = await benchPublishing({
    afterZeroLatencyRun: async (run) => {
      const g = await graphile(run.posts);
      pairs.push({ oursPostsPerSecond: run.postsPerSecond, graphileJobsPerSecond: g.jobsPerSecond, ratio: run.postsPerSecond / g.jobsPerSecond, loadAverage: loadavg()[0]! });
    },
  });
  if (publishing.perPlatform * 5 !== GRAPHILE_CONCURRENCY) throw new Error("graphile-worker must run with the runner's concurrency");
  return { publishing, pairs, concurrency: GRAPHILE_CONCURRENCY };
}
