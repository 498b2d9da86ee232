// A small closed-loop load generator: N clients, each sending its next request
// as soon as the previous answer arrives, over keep-alive connections.
import http from "node:http";

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
}

function get(agent: http.Agent, url: URL, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function runLoad(opts: {
  url: string;
  clients: number;
  seconds: number;
  headersFor: (i: number) => Record<string, string>;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.clients });
  const url = new URL(opts.url);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, i) => {
      const headers = opts.headersFor(i);
      while (performance.now() < end) {
        const t = performance.now();
        const status = await get(agent, url, headers).catch(() => 0);
        if (status !== 200) errors++;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50ms: pct(0.5),
    p99ms: pct(0.99),
  };
}
