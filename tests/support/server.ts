// Starts the real server (createApp + real database) on a free port for a test
// file, with a controllable clock and captured log lines.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { start, type Running } from "../../server/index.ts";
import { Client } from "./client.ts";
import { TestClock } from "./clock.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export const TEST_SECRETS = {
  SESSION_SECRET: "test-session-secret-0123456789abcdef0123456789",
  TOKEN_ENCRYPTION_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
};

/**
 * A port nothing listens on, for a server that binds it later. Chosen at
 * random BELOW the kernel's ephemeral range: a port from listen(0) comes from
 * that range, and any outgoing connection (to PostgreSQL, to the sandbox) can
 * take it in the seconds between this check and the server's bind — which
 * made a test server fail with EADDRINUSE on a busy machine. Random, so test
 * files running side by side do not walk the same sequence.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 20_000;
  for (let tries = 0; tries < 50 && ephemeralLow > low + 1_000; tries++) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    if (await canBind(port)) return port;
  }
  return kernelChosenPort();
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo && hi) return [lo, hi];
  } catch {
    // Not Linux: fall back to a port the kernel picks.
  }
  return [0, 0];
}

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface TestServer extends Running {
  clock: TestClock;
  dataDir: string;
  database: TestDatabase;
  /** Every log line written so far, parsed. */
  logs: LogLine[];
  /** The raw log text, to check nothing secret was written. */
  rawLog(): string;
  client(): Client;
  /** Stops the server; keeps the database unless `dropDatabase` is true. */
  close(options?: { dropDatabase?: boolean }): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string | undefined>;
  clock?: TestClock;
  /** Reuse a database (restart tests); created fresh otherwise. */
  database?: TestDatabase;
  dataDir?: string;
  jobs?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "aiq-test-"));
  const clock = options.clock ?? new TestClock(new Date());
  const logs: LogLine[] = [];
  let raw = "";
  const sink = new Writable({
    write(chunk, _enc, cb) {
      const text = chunk.toString();
      raw += text;
      for (const line of text.split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  // The port is chosen before the bind; if another process takes it meanwhile (EADDRINUSE), start again on another.
  let started: Running | undefined;
  for (let attempt = 1; !started; attempt++) {
    started = await startOn(await freePort()).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EADDRINUSE" || attempt >= 5) throw err;
      return undefined;
    });
  }
  const running = started;
  return {
    ...running,
    clock,
    dataDir,
    database,
    logs,
    rawLog: () => raw,
    client: () => new Client(running.url),
    async close({ dropDatabase = true } = {}) {
      await running.stop();
      if (dropDatabase) await database.drop();
      // A folder this harness made is this server's alone (a kept database lives elsewhere): never left in the temp dir.
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };

  function startOn(port: number) {
    return start({
      env: {
        NODE_ENV: "test",
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        LOG_LEVEL: "info",
        REQUIRE_PHONE_VERIFICATION: "false",
        // Every test user signs up from 127.0.0.1.
        SIGNUPS_PER_IP_PER_HOUR: "100000",
        ...TEST_SECRETS,
        ...options.env,
      },
      port,
      embeddedDir: database.url ? undefined : "memory",
      clock,
      logDestination: sink,
      jobs: options.jobs ?? false,
    });
  }
}

let counter = 0;
/** A unique, valid identity for a test user. */
export function newIdentity(tag = "u") {
  counter += 1;
  const n = `${process.pid}${counter}`.slice(-8).padStart(8, "0");
  return { email: `${tag}${process.pid}-${counter}@example.com`, phone: `+614${n}`, password: "correct horse battery" };
}

/** Signs a new user up (phone check off in tests) and returns its logged-in client. */
export async function signedUpClient(server: TestServer, tag = "u") {
  const id = newIdentity(tag);
  const client = server.client();
  const res = await client.post("/api/auth/signup", id);
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return { client, identity: id, user: res.body.user as { id: number; email: string; phone: string } };
}
