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

mkdirSync(new URL("./results", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/latest.json", import.meta.url), JSON.stringify(results, null, 2));
