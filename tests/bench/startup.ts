// Bench: start-up as a new user meets it. `npm start` runs in a fresh copy of
// the repository (its sources, a link to node_modules, nothing built, no data
// folder) and the clock runs from the command to the first /readyz 200:
// first start (embedded database created), second start (migrated folder),
// and a start on real PostgreSQL whose database is already migrated.
// Each start also reports the server's idle memory (RSS, from /metrics).
import { spawn, type ChildProcess } from "node:child_process";
import { freshClone } from "../support/clone.ts";
import { freePort } from "../support/server.ts";
import { metricsMb } from "./metrics.ts";

export interface StartRun {
  /** Command → first /readyz 200, in seconds. */
  seconds: number;
  /** The server's own account (its "listening" line): ms since its process began at each step. */
  phases: Record<string, number>;
  /** The server process's resident memory a moment after it is ready, in MB. */
  idleRssMb: number;
}

export interface StartedServer {
  url: string;
  /** What the process printed so far. */
  output(): string;
  child: ChildProcess;
  /** Reads process_resident_memory_bytes from /metrics (prom-client's default process metrics), in MB. */
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/** Runs `npm start` in `cwd` and resolves once /readyz answers 200, with the seconds it took. */
export async function npmStart(cwd: string, env: Record<string, string | undefined>): Promise<{ server: StartedServer; seconds: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  // Its own process group, so stop() reaches npm's child (the server) too.
  const child = spawn("npm", ["start", "--silent"], {
    cwd,
    detached: true,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
    if (performance.now() - t0 > 180_000) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`npm start not ready after 180 s:\n${out}`);
    }
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  const server: StartedServer = {
    url,
    output: () => out,
    child,
    rssMb: async () => (await metricsMb(url, ["process_resident_memory_bytes"])).process_resident_memory_bytes,
    stop: async () => {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGTERM");
      await exited;
    },
  };
  return { server, seconds };
}

/** Idle RSS: a second of quiet after start, then one reading. */
async function idleRss(server: StartedServer): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  return server.rssMb();
}

export interface StartupResult {
  firstEmbedded: StartRun;
  secondEmbedded: StartRun[];
  realPostgres: StartRun[];
}

/** `starts` repetitions of the second embedded start and of the real PostgreSQL start (the first happens once per clone). */
export async function benchStartup(realDatabaseUrl: string, starts = 3): Promise<StartupResult> {
  const clone = freshClone();
  // Nothing configured, as after a clone: ./data and its development secrets are created by the first start.
  const env = {};
  try {
    const measure = async (extra: Record<string, string> = {}): Promise<StartRun> => {
      const { server, seconds } = await npmStart(clone.dir, { ...env, ...extra });
      try {
        const idleRssMb = await idleRss(server); // a second later: the log line is written by then
        const line = server.output().split("\n").find((l) => l.includes('"AgencyIQ listening"'));
        return { seconds, phases: line ? JSON.parse(line).startup : {}, idleRssMb };
      } finally {
        await server.stop();
      }
    };
    const firstEmbedded = await measure();
    const secondEmbedded: StartRun[] = [];
    for (let i = 0; i < starts; i++) secondEmbedded.push(await measure());
    await measure({ DATABASE_URL: realDatabaseUrl }); // migrates it: the measured starts find it current
    const realPostgres: StartRun[] = [];
    for (let i = 0; i < starts; i++) realPostgres.push(await measure({ DATABASE_URL: realDatabaseUrl }));
    return { firstEmbedded, secondEmbedded, realPostgres };
  } finally {
    clone.remove();
  }
}
