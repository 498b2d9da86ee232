// Bench: memory of the server on the embedded database over a soak of GET
// /api/user (BENCH_SOAK_SECONDS). `npm start` in a fresh copy of the
// repository, as a user runs it (the bundle, PGlite in the process, timers
// on); 10 signed-up clients call the endpoint without pause; RSS from
// /metrics every 5 s, growth as in soak.ts. The runner half of the soak needs
// due posts written from outside the server, which only real PostgreSQL allows
// (soak.ts); here the runner's timers tick with nothing due.
import { Client } from "../support/client.ts";
import { freshClone } from "../support/clone.ts";
import { newIdentity } from "../support/server.ts";
import { runLoad } from "./load.ts";
import { npmStart } from "./startup.ts";

export interface EmbeddedSoakResult {
  seconds: number;
  requests: number;
  requestErrors: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  growthMb: number;
  samples: Array<{ atSeconds: number; rssMb: number }>;
}

export async function benchEmbeddedSoak(seconds: number): Promise<EmbeddedSoakResult> {
  const clone = freshClone();
  const { server } = await npmStart(clone.dir, { LOG_LEVEL: "warn", REQUIRE_PHONE_VERIFICATION: "false", SIGNUPS_PER_IP_PER_HOUR: "100000" });
  try {
    const cookies: string[] = [];
    for (let i = 0; i < 10; i++) {
      const c = new Client(server.url);
      const r = await c.post("/api/auth/signup", newIdentity("esoak"));
      if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${r.text}`);
      cookies.push(c.cookieHeader);
    }
    const samples: EmbeddedSoakResult["samples"] = [];
    const t0 = performance.now();
    let stop = false;
    const sampling = (async () => {
      while (!stop) {
        samples.push({ atSeconds: (performance.now() - t0) / 1000, rssMb: await server.rssMb() });
        await new Promise((r) => setTimeout(r, 5_000));
      }
    })();
    const load = await runLoad({ url: `${server.url}/api/user`, clients: 10, seconds, headersFor: (i) => ({ cookie: cookies[i]! }) });
    stop = true;
    await sampling;
    samples.push({ atSeconds: (performance.now() - t0) / 1000, rssMb: await server.rssMb() });
    const settled = samples.filter((s) => s.atSeconds >= seconds / 10);
    const quarter = Math.max(1, Math.floor(settled.length / 4));
    const mean = (xs: typeof samples) => xs.reduce((a, s) => a + s.rssMb, 0) / xs.length;
    const rssStartMb = mean(settled.slice(0, quarter));
    const rssEndMb = mean(settled.slice(-quarter));
    return {
      seconds,
      requests: load.requests,
      requestErrors: load.errors,
      rssStartMb,
      rssEndMb,
      rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
      growthMb: rssEndMb - rssStartMb,
      samples,
    };
  } finally {
    await server.stop();
    clone.remove();
  }
}
