// `npm run bench`: every benchmark, on real PostgreSQL (BENCH_DATABASE_URL,
// DATABASE_URL, or the local server at 127.0.0.1:5432). Results are printed
// and written to tests/bench/results/latest.json; README records a run.
import { mkdirSync, writeFileSync } from "node:fs";

process.env.DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
// Imported after DATABASE_URL is settled: the test-database helper reads it on load.
const { benchUserEndpoint } = await import("./user-endpoint.ts");
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

const fmt = (n: number) => n.toFixed(1);
const results: Record<string, unknown> = { at: new Date().toISOString(), seconds };

const { ours, baseline } = await benchUserEndpoint(seconds);
results.userEndpoint = { ours, baseline, ratio: ours.rps / baseline.rps };
console.log(`\nGET /api/user, 50 authenticated clients, ${seconds} s each`);
console.log(`  ours      ${fmt(ours.rps)} req/s  p50 ${fmt(ours.p50ms)} ms  p99 ${fmt(ours.p99ms)} ms  errors ${ours.errors}`);
console.log(`  baseline  ${fmt(baseline.rps)} req/s  p50 ${fmt(baseline.p50ms)} ms  p99 ${fmt(baseline.p99ms)} ms  (Express + pg SELECT 1)`);
console.log(`  ratio     ${(ours.rps / baseline.rps).toFixed(2)}× the baseline's throughput`);

const { benchConnectionCheck } = await import("./connection-check.ts");
const check = await benchConnectionCheck();
results.connectionCheck = check;
console.log(`\nConnection check: a tick with nothing due, and the tick that refreshes 1,000 due X connections against the sandbox`);
console.log(`  stored     idle tick p50 / max     due query plan                      refresh 1,000 due   refreshed  requests`);
for (const c of check) {
  const plan = c.usesIndex ? "index on next_check_at, no seq scan" : "NOT the index (see latest.json)";
  console.log(
    `  ${String(c.stored).padStart(7)}    ${fmt(c.idleTickMedianMs).padStart(5)} / ${fmt(c.idleTickMaxMs).padStart(5)} ms      ${plan.padEnd(36)}${fmt(c.refreshTickMs).padStart(8)} ms    ${String(c.refreshed).padStart(7)}  ${String(c.refreshRequests).padStart(8)}`,
  );
}
console.log(`  EXPLAIN ANALYZE of the due query at ${check.at(-1)!.stored} stored, 1,000 due:`);
for (const line of check.at(-1)!.explainDue) console.log(`    ${line}`);

const { benchPublishing } = await import("./publishing.ts");
// The yardstick: graphile-worker running as many no-op jobs on the same PostgreSQL, with our
// runner's concurrency, right after each zero-latency run of ours; each pair gives a ratio.
const { benchGraphileNoop } = await import("./graphile-noop.ts");
const { createTestDatabase } = await import("../support/database.ts");
const GRAPHILE_CONCURRENCY = 8 * 5; // our runner: 8 calls per platform × 5 platforms
const graphile = async (jobs: number) => {
  const gdb = await createTestDatabase();
  try {
    return await benchGraphileNoop(gdb.url!, jobs, GRAPHILE_CONCURRENCY);
  } finally {
    await gdb.drop();
  }
};
await graphile(2_000); // warm-up, like ours
const pairs: Array<{ oursPostsPerSecond: number; graphileJobsPerSecond: number; ratio: number }> = [];
const publishing = await benchPublishing({
  afterZeroLatencyRun: async (run) => {
    const g = await graphile(run.posts);
    pairs.push({ oursPostsPerSecond: run.postsPerSecond, graphileJobsPerSecond: g.jobsPerSecond, ratio: run.postsPerSecond / g.jobsPerSecond });
  },
});
if (publishing.perPlatform * 5 !== GRAPHILE_CONCURRENCY) throw new Error("graphile-worker must run with the runner's concurrency");
results.publishing = publishing;
console.log(`\nPublishing: due posts → runner → sandbox → fenced completion (${publishing.perPlatform} per platform, ${publishing.perConnection} per connection)`);
for (const r of publishing.runs) {
  const bound = r.boundPostsPerSecond ? `  bound ${fmt(r.boundPostsPerSecond)} posts/s (${((100 * r.postsPerSecond) / r.boundPostsPerSecond).toFixed(0)}% of it)` : "";
  console.log(`  ${String(r.posts).padStart(6)} posts, ${String(r.latencyMs).padStart(3)} ms latency: ${fmt(r.postsPerSecond)} posts/s in ${fmt(r.seconds)} s, ${r.published} published${bound}; CPU ${r.cpuMsPerPost.toFixed(2)} ms/post, ${(100 * r.cpuShare).toFixed(0)}% of a core`);
}
for (const p of pairs) {
  console.log(`  graphile-worker 0.17, no-op jobs right after, concurrency ${GRAPHILE_CONCURRENCY}: ${fmt(p.graphileJobsPerSecond)} jobs/s → ours ${fmt(p.oursPostsPerSecond)} posts/s = ${p.ratio.toFixed(2)}×`);
}
const sorted = pairs.map((p) => p.ratio).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
results.graphileNoop = { pairs, medianRatio: median };
console.log(`  ratio      ours (0 ms) / graphile no-op: median ${median.toFixed(2)}× of ${pairs.length} pairs, range ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)} (target ≥ 0.5×)`);

mkdirSync(new URL("./results", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/latest.json", import.meta.url), JSON.stringify(results, null, 2));
