// Bench: GET /api/user for 50 concurrent authenticated clients, against a
// bare Express + pg `SELECT 1` endpoint measured in the same run.
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "../support/client.ts";
import { createTestDatabase } from "../support/database.ts";
import { spawnProcess, spawnServer } from "../support/process.ts";
import { freePort, newIdentity, TEST_SECRETS } from "../support/server.ts";
import { runLoad, type LoadResult } from "./load.ts";
import { postgresCpuSince, processCpuMs } from "./proc-cpu.ts";

const CLIENTS = 50;

/** A load run with the CPU its server process and the PostgreSQL backends spent per request (Linux /proc). */
export type MeasuredLoad = LoadResult & { cpuMsPerRequest: number; dbCpuMsPerRequest: number };

export interface UserEndpointPair {
  ours: MeasuredLoad;
  baseline: MeasuredLoad;
  ratio: number;
  /** 1-minute load average when the pair finished: the machine is shared. */
  loadAverage: number;
}

/** `pairs` alternating measurements (ours, then the yardstick) of `seconds` each. */
export async function benchUserEndpoint(seconds: number, pairs = 3): Promise<UserEndpointPair[]> {
  const db = await createTestDatabase();
  const appPort = await freePort();
  const basePort = await freePort();
  const app = await spawnServer({
    port: appPort,
    env: {
      PORT: String(appPort),
      PUBLIC_URL: `http://127.0.0.1:${appPort}`,
      DATABASE_URL: db.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), "aiq-bench-")),
      LOG_LEVEL: "warn",
      REQUIRE_PHONE_VERIFICATION: "false",
      SIGNUPS_PER_IP_PER_HOUR: "100000",
      ...TEST_SECRETS,
    },
  });
  const baselineProcess = spawnProcess({
    env: { PORT: String(basePort), DATABASE_URL: db.url },
    script: new URL("./baseline-server.ts", import.meta.url).pathname,
  });
  try {
    const cookies: string[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = new Client(app.url);
      const r = await c.post("/api/auth/signup", newIdentity("bench"));
      if (r.status !== 201) throw new Error(`signup failed: ${r.text}`);
      cookies.push(c.cookieHeader);
    }
    await waitFor(`http://127.0.0.1:${basePort}/select1`).catch((e) => {
      throw new Error(`${e.message}\n${baselineProcess.output()}`);
    });
    // Warm both up, then measure one after the other with the same generator.
    await runLoad({ url: `${app.url}/api/user`, clients: CLIENTS, seconds: 1, headersFor: (i) => ({ cookie: cookies[i]! }) });
    await runLoad({ url: `http://127.0.0.1:${basePort}/select1`, clients: CLIENTS, seconds: 1, headersFor: () => ({}) });
    const dbName = new URL(db.url!).pathname.slice(1);
    const measured = async (pid: number, run: () => Promise<LoadResult>): Promise<MeasuredLoad> => {
      const cpu0 = processCpuMs(pid);
      const dbCpu = postgresCpuSince(dbName);
      const r = await run();
      return { ...r, cpuMsPerRequest: (processCpuMs(pid) - cpu0) / r.requests, dbCpuMsPerRequest: dbCpu() / r.requests };
    };
    const results: UserEndpointPair[] = [];
    for (let i = 0; i < pairs; i++) {
      const ours = await measured(app.child.pid!, () => runLoad({ url: `${app.url}/api/user`, clients: CLIENTS, seconds, headersFor: (i) => ({ cookie: cookies[i]! }) }));
      const baseline = await measured(baselineProcess.child.pid!, () => runLoad({ url: `http://127.0.0.1:${basePort}/select1`, clients: CLIENTS, seconds, headersFor: () => ({}) }));
      results.push({ ours, baseline, ratio: ours.rps / baseline.rps, loadAverage: loadavg()[0]! });
    }
    return results;
  } finally {
    baselineProcess.child.kill("SIGTERM");
    await app.kill();
    await baselineProcess.exited;
    await db.drop();
  }
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered`);
}
