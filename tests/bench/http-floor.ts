// The floor under the runner's CPU per post on this design: every post costs
// one to three platform calls (YouTube and Instagram three), each made with
// the runner's own HTTP client (server/platforms/http.ts: node:http,
// keep-alive, JSON body and answer). Here that client alone sends small JSON
// POSTs to the same sandbox process, with the runner's concurrency, and the
// CPU of this process per call is read. Calls per post × this figure is CPU
// the runner cannot shed while it talks to platforms over HTTP from Node;
// graphile-worker's no-op jobs, the yardstick, make no call at all.
import { PlatformHttp } from "../../server/platforms/http.ts";

export interface HttpFloor {
  calls: number;
  concurrency: number;
  cpuMsPerCall: number;
  callsPerSecond: number;
}

/** The sandbox's clock endpoint, moved by 0 ms: a JSON POST with a small JSON answer that changes nothing. */
const harmlessPost = (sandboxUrl: string) => `${sandboxUrl}/_control/clock`;

async function callMany(http: PlatformHttp, url: string, calls: number, concurrency: number): Promise<void> {
  let left = calls;
  const worker = async () => {
    while (left > 0) {
      left--;
      await http.request("bench", url, { json: { advanceMs: 0 } });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function benchHttpFloor(sandboxUrl: string, calls = 20_000, concurrency = 40): Promise<HttpFloor> {
  const http = new PlatformHttp("x", 20_000);
  const url = harmlessPost(sandboxUrl);
  await callMany(http, url, 2_000, concurrency); // warm-up: JIT and keep-alive sockets
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await callMany(http, url, calls, concurrency);
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return { calls, concurrency, cpuMsPerCall: (cpu.user + cpu.system) / 1000 / calls, callsPerSecond: calls / seconds };
}
