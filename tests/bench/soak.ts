// Bench: the server's memory over a soak (BENCH_SOAK_SECONDS, 60 by default;
// the figure is 600). One server process on real PostgreSQL runs its
// runner (timers on, as in production) while this process keeps both of its
// jobs busy: 10 clients on GET /api/user without pause, and a steady stream of
// due posts (every platform, through the sandbox as its own process). RSS is
// read from the server's /metrics every few seconds; growth is the mean of the
// last quarter of the readings against the first quarter after the warm-up tenth.
import assert from "node:assert/strict";
import { PLATFORMS } from "../../shared/schema.ts";
import { approvedPosts, multiProcessSetup, publisher, spawnRunner, statusCounts, type Publisher } from "../posts/helpers.ts";
import { runLoad } from "./load.ts";
import { metricsMb } from "./metrics.ts";

const USERS = 10;
const POSTS_PER_SECOND = 50;
const SAMPLE_EVERY_MS = 5_000;

export interface SoakResult {
  seconds: number;
  requests: number;
  requestErrors: number;
  postsPublished: number;
  /** Mean MB of the first and of the last quarter of the readings after the warm-up tenth, and the highest reading. */
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  growthMb: number;
  /** The same means of V8's used heap: RSS growth with a flat heap is native memory (buffers, sockets, the allocator). */
  heapStartMb: number;
  heapEndMb: number;
  samples: Array<{ atSeconds: number; rssMb: number; heapMb: number }>;
}

export async function benchSoak(seconds: number): Promise<SoakResult> {
  // Plans big enough that quota never stops the stream.
  const setup = await multiProcessSetup({ PLAN_PROFESSIONAL_POSTS: "1000000" });
  const { server, sandbox } = setup;
  let runner: Awaited<ReturnType<typeof spawnRunner>> | undefined;
  try {
    const users: Publisher[] = [];
    for (let i = 0; i < USERS; i++) users.push(await publisher(server, PLATFORMS, `soak${i}`, "professional", sandbox.url));
    runner = await spawnRunner(setup.childEnv);
    const url = runner.url;
    const memory = async () => {
      const m = await metricsMb(url, ["process_resident_memory_bytes", "nodejs_heap_size_used_bytes"]);
      return { rssMb: m.process_resident_memory_bytes, heapMb: m.nodejs_heap_size_used_bytes };
    };
    const cookies = users.map((u) => u.client.cookieHeader);
    const samples: SoakResult["samples"] = [];
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    let stop = false;
    const feeding = (async () => {
      let batch = 0;
      while (!stop) {
        const per = Math.max(1, Math.round(POSTS_PER_SECOND / USERS / PLATFORMS.length));
        await approvedPosts(server.deps, sandbox.url, users.flatMap((u) => PLATFORMS.map((platform) => ({ userId: u.userId, platform, count: per, tag: `soak${batch}` }))));
        batch += 1;
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const sampling = (async () => {
      while (!stop) {
        samples.push({ atSeconds: elapsed(), ...(await memory()) });
        await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
      }
    })();
    const load = await runLoad({ url: `${url}/api/user`, clients: 10, seconds, headersFor: (i) => ({ cookie: cookies[i % cookies.length]! }) });
    stop = true;
    await Promise.all([feeding, sampling]);
    samples.push({ atSeconds: elapsed(), ...(await memory()) });
    const counts = await statusCounts(server.deps);
    assert.ok((counts.published ?? 0) > 0, `the runner published during the soak: ${JSON.stringify(counts)}`);
    // Single readings move with the garbage collector: compare the mean of the first and last quarters after the warm-up.
    const settled = samples.filter((s) => s.atSeconds >= seconds / 10);
    const quarter = Math.max(1, Math.floor(settled.length / 4));
    const mean = (xs: typeof samples) => ({ rssMb: xs.reduce((a, s) => a + s.rssMb, 0) / xs.length, heapMb: xs.reduce((a, s) => a + s.heapMb, 0) / xs.length });
    const first = mean(settled.slice(0, quarter));
    const last = mean(settled.slice(-quarter));
    return {
      seconds,
      requests: load.requests,
      requestErrors: load.errors,
      postsPublished: counts.published ?? 0,
      rssStartMb: first.rssMb,
      rssEndMb: last.rssMb,
      rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
      growthMb: last.rssMb - first.rssMb,
      heapStartMb: first.heapMb,
      heapEndMb: last.heapMb,
      samples,
    };
  } finally {
    await runner?.kill();
    await setup.close();
  }
}
