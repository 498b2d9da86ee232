// `npm run bench`: every benchmark, on real PostgreSQL (BENCH_DATABASE_URL,
// DATABASE_URL, or the local server at 127.0.0.1:5432). Results are printed,
// ending with issue 18's table, and written to tests/bench/results/latest.json;
// README records a run. BENCH_ONLY=startup,user,check,publishing,soak runs a
// subset (soak-real or soak-embedded: one half of the soak); BENCH_SOAK_SECONDS
// sets the soak's length (60 s; the issue's is 600).
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";

process.env.DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
// Imported after DATABASE_URL is settled: the test-database helper reads it on load.
const { createTestDatabase } = await import("../support/database.ts");
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const only = process.env.BENCH_ONLY?.split(",");
const runs = (name: string) => !only || only.includes(name);

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const load = () => fmt(loadavg()[0]!, 2);
/** Median (upper middle) and range of a few figures. */
const spread = (xs: number[], digits = 2) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)!, text: `${fmt(s[Math.floor(s.length / 2)]!, digits)} (${fmt(s[0]!, digits)}–${fmt(s.at(-1)!, digits)})` };
};
const results: Record<string, unknown> = { at: new Date().toISOString(), seconds, soakSeconds, loadAverageAtStart: loadavg()[0] };
/** Issue 18's table, filled as the benchmarks run: [measure, figure, target, load average]. */
const table: Array<[string, string, string, string]> = [];

if (runs("startup")) {
  const { benchStartup } = await import("./startup.ts");
  const db = await createTestDatabase();
  try {
    const s = await benchStartup(db.url!);
    results.startup = s;
    console.log("\nStart-up: `npm start` in a fresh copy of the repository → first /readyz 200 (seconds), then idle RSS");
    const line = (label: string, r: { seconds: number; idleRssMb: number; phases: Record<string, number> }[]) => {
      console.log(`  ${label.padEnd(40)} ${r.map((x) => `${fmt(x.seconds, 2)} s / ${fmt(x.idleRssMb, 0)} MB`).join(", ")}`);
      for (const x of r) console.log(`      server's account, ms since its process began: ${Object.entries(x.phases).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    };
    line("first start, embedded (fresh clone)", [s.firstEmbedded]);
    line("second start, embedded (migrated)", s.secondEmbedded);
    line("start on real PostgreSQL (migrated)", s.realPostgres);
    table.push(["first `npm start`, fresh clone, embedded → /readyz", `${fmt(s.firstEmbedded.seconds, 2)} s`, "< 3 s", load()]);
    table.push(["second start, embedded (migrated folder)", `${spread(s.secondEmbedded.map((r) => r.seconds)).text} s`, "< 1.5 s", load()]);
    table.push(["start on real PostgreSQL (migrated)", `${spread(s.realPostgres.map((r) => r.seconds)).text} s`, "< 1 s", load()]);
    const rss = (r: { idleRssMb: number }[]) => spread(r.map((x) => x.idleRssMb), 0).text;
    table.push(["server RSS idle, embedded / real PostgreSQL", `${rss(s.secondEmbedded)} / ${rss(s.realPostgres)} MB (first start ${fmt(s.firstEmbedded.idleRssMb, 0)} MB)`, "measured", load()]);
  } finally {
    await db.drop();
  }
}

if (runs("user")) {
  const { benchUserEndpoint } = await import("./user-endpoint.ts");
  const pairs = await benchUserEndpoint(seconds);
  results.userEndpoint = pairs;
  console.log(`\nGET /api/user, 50 authenticated clients, ${seconds} s each, alternating with the yardstick (Express + pg SELECT 1)`);
  for (const p of pairs) {
    console.log(
      `  ours ${fmt(p.ours.rps)} req/s (p50 ${fmt(p.ours.p50ms)} ms, p99 ${fmt(p.ours.p99ms)} ms, errors ${p.ours.errors}; CPU per request: server ${fmt(p.ours.cpuMsPerRequest, 3)} ms, PostgreSQL ${fmt(p.ours.dbCpuMsPerRequest, 3)} ms)` +
        `  baseline ${fmt(p.baseline.rps)} req/s (p99 ${fmt(p.baseline.p99ms)} ms; server ${fmt(p.baseline.cpuMsPerRequest, 3)} ms, PostgreSQL ${fmt(p.baseline.dbCpuMsPerRequest, 3)} ms)  → ${fmt(p.ratio, 2)}×  load ${fmt(p.loadAverage, 2)}`,
    );
  }
  const r = spread(pairs.map((p) => p.ratio));
  console.log(`  ratio median ${r.text} of ${pairs.length} pairs`);
  table.push(["GET /api/user, 50 clients, vs Express + pg SELECT 1", `${r.text}×`, "≥ 0.6×", load()]);
}

if (runs("check")) {
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
}

if (runs("publishing")) {
  const { benchPublishingPairs } = await import("./publishing-pairs.ts");
  const { publishing, pairs, concurrency } = await benchPublishingPairs();
  results.publishing = publishing;
  results.graphileNoop = { pairs, medianRatio: spread(pairs.map((p) => p.ratio)).median };
  console.log(`\nPublishing: due posts → runner → sandbox → fenced completion (${publishing.perPlatform} per platform, ${publishing.perConnection} per connection)`);
  for (const r of publishing.runs) {
    const bound = r.boundPostsPerSecond ? `  bound ${fmt(r.boundPostsPerSecond)} posts/s (${((100 * r.postsPerSecond) / r.boundPostsPerSecond).toFixed(1)}% of it)` : "";
    console.log(
      `  ${String(r.posts).padStart(6)} posts, ${String(r.latencyMs).padStart(3)} ms latency: ${fmt(r.postsPerSecond)} posts/s in ${fmt(r.seconds)} s, ${r.published} published${bound}; per post CPU: runner ${fmt(r.cpuMsPerPost, 2)} ms (${fmt(100 * r.cpuShare, 0)}% of a core), PostgreSQL ${fmt(r.dbCpuMsPerPost, 2)} ms, sandbox ${fmt(r.sandboxCpuMsPerPost, 2)} ms; ${fmt(r.statementsPerPost, 2)} statements and ${fmt(r.platformCallsPerPost, 2)} platform calls per post`,
    );
    const finish = Object.entries(r.platformSeconds).sort((a, b) => a[1]! - b[1]!);
    if (finish.length) console.log(`      each platform's last post published at: ${finish.map(([p, t]) => `${p} ${fmt(t!)} s`).join(", ")}`);
    for (const why of r.leftovers) console.log(`      left by the drain, published after it (not in its rate): ${why}`);
  }
  for (const p of pairs) {
    console.log(`  graphile-worker 0.17, no-op jobs right after, concurrency ${concurrency}: ${fmt(p.graphileJobsPerSecond)} jobs/s → ours ${fmt(p.oursPostsPerSecond)} posts/s = ${fmt(p.ratio, 2)}×  load ${fmt(p.loadAverage, 2)}`);
  }
  const floor = publishing.httpFloor;
  const zero = publishing.runs.filter((r) => r.latencyMs === 0);
  const floorPerPost = spread(zero.map((r) => r.platformCallsPerPost * floor.cpuMsPerCall));
  console.log(
    `  HTTP floor: the runner's HTTP client alone, ${floor.calls} small JSON POSTs to the same sandbox at concurrency ${floor.concurrency}: ${fmt(floor.cpuMsPerCall, 3)} ms CPU per call (${fmt(floor.callsPerSecond)} calls/s); × platform calls per post = ${floorPerPost.text} ms per post`,
  );
  const ratio = spread(pairs.map((p) => p.ratio));
  console.log(`  ratio      ours (0 ms) / graphile no-op: median ${ratio.text} of ${pairs.length} pairs`);
  table.push(["publishing 10,000 posts at 0 ms vs graphile-worker no-op, paired", `median ${ratio.text}×`, "≥ 0.8× median, ≥ 0.7× every pair", load()]);
  table.push([
    "runner CPU per post (runner's process)",
    `${spread(zero.map((r) => r.cpuMsPerPost)).text} ms (PostgreSQL ${spread(zero.map((r) => r.dbCpuMsPerPost)).text} ms, sandbox ${spread(zero.map((r) => r.sandboxCpuMsPerPost)).text} ms; HTTP floor ${floorPerPost.text} ms)`,
    "≤ 0.3 ms",
    load(),
  ]);
  for (const r of publishing.runs.filter((x) => x.boundPostsPerSecond)) {
    table.push([`publishing at ${r.latencyMs} ms latency vs concurrency bound`, `${fmt((100 * r.postsPerSecond) / r.boundPostsPerSecond!, 1)}%`, "≥ 97%", load()]);
  }
}

if (runs("soak") || runs("soak-real")) {
  const { benchSoak } = await import("./soak.ts");
  const s = await benchSoak(soakSeconds);
  results.soak = s;
  console.log(`\nSoak, ${soakSeconds} s: one server on real PostgreSQL, its runner publishing ~50 posts/s while 10 clients call GET /api/user`);
  console.log(`  ${s.requests} requests (${s.requestErrors} errors), ${s.postsPublished} posts published`);
  console.log(`  RSS, mean of the first quarter after the warm-up ${fmt(s.rssStartMb, 0)} MB → of the last quarter ${fmt(s.rssEndMb, 0)} MB (max ${fmt(s.rssMaxMb, 0)} MB): growth ${fmt(s.growthMb, 1)} MB`);
  console.log(`  V8 heap used, the same quarters: ${fmt(s.heapStartMb, 0)} MB → ${fmt(s.heapEndMb, 0)} MB`);
  console.log(`  samples (RSS/heap MB): ${s.samples.map((x) => `${fmt(x.atSeconds, 0)}s ${fmt(x.rssMb, 0)}/${fmt(x.heapMb, 0)}`).join(", ")}`);
  table.push([`RSS over a ${soakSeconds} s soak (user endpoint + runner, real PostgreSQL)`, `${fmt(s.rssStartMb, 0)} → ${fmt(s.rssEndMb, 0)} MB (${s.growthMb >= 0 ? "+" : ""}${fmt(s.growthMb, 1)} MB, max ${fmt(s.rssMaxMb, 0)})`, "no growth", load()]);
}

if (runs("soak") || runs("soak-embedded")) {
  const { benchEmbeddedSoak } = await import("./soak-embedded.ts");
  const s = await benchEmbeddedSoak(soakSeconds);
  results.soakEmbedded = s;
  console.log(`\nSoak, ${soakSeconds} s: npm start on the embedded database, 10 clients calling GET /api/user (the runner's timers on, nothing due)`);
  console.log(`  ${s.requests} requests (${s.requestErrors} errors)`);
  console.log(`  RSS, mean of the first quarter after the warm-up ${fmt(s.rssStartMb, 0)} MB → of the last quarter ${fmt(s.rssEndMb, 0)} MB (max ${fmt(s.rssMaxMb, 0)} MB): growth ${fmt(s.growthMb, 1)} MB`);
  console.log(`  samples: ${s.samples.map((x) => `${fmt(x.atSeconds, 0)}s ${fmt(x.rssMb, 0)}`).join(", ")}`);
  table.push([`RSS over a ${soakSeconds} s soak (user endpoint, embedded)`, `${fmt(s.rssStartMb, 0)} → ${fmt(s.rssEndMb, 0)} MB (${s.growthMb >= 0 ? "+" : ""}${fmt(s.growthMb, 1)} MB, max ${fmt(s.rssMaxMb, 0)})`, "no growth", load()]);
}

results.table = table.map(([measure, figure, target, loadAverage]) => ({ measure, figure, target, loadAverage }));
console.log("\nIssue 18's table (median (range); load = 1-minute load average when measured)");
for (const [measure, figure, target, l] of table) console.log(`  ${measure.padEnd(66)} ${figure.padEnd(60)} target ${target.padEnd(34)} load ${l}`);

mkdirSync(new URL("./results", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/latest.json", import.meta.url), JSON.stringify(results, null, 2));
