// Start-up: a fresh checkout with nothing configured runs; production without
// its secrets stops at once naming them, and a port in use names PORT; two servers migrating one empty
// PostgreSQL database at once apply the schema once; npm start runs the
// bundle it builds, or the TypeScript when it cannot write one.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import pg from "pg";
import { createTestDatabase, needsRealPostgres } from "../support/database.ts";
import { freshClone } from "../support/clone.ts";
import { spawnProcess, spawnServerOnFreePort } from "../support/process.ts";
import { freePort, TEST_SECRETS } from "../support/server.ts";

describe("start-up", () => {
  it("starts with nothing configured (embedded database, sandbox) and answers /readyz", async () => {
    // A folder of its own stands in for a fresh clone's working directory: ./data is created there.
    const cwd = mkdtempSync(join(tmpdir(), "aiq-fresh-"));
    const server = await spawnServerOnFreePort({ envFor: (port) => ({ PORT: String(port) }), cwd, timeoutMs: 90_000 });
    try {
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: "ready" });
      assert.ok(readdirSync(join(cwd, "data")).includes("pglite"), "embedded database created in ./data");
      assert.ok(readdirSync(join(cwd, "data")).includes("dev-secrets.json"), "dev secrets generated once");
    } finally {
      assert.equal(await server.kill("SIGTERM"), 0, "SIGTERM shuts down cleanly");
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("NODE_ENV=production without its settings stops at once and lists what production needs", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "aiq-prod-"));
    const p = spawnProcess({ env: { NODE_ENV: "production" }, cwd });
    const code = await p.exited;
    assert.equal(code, 1);
    for (const name of ["DATABASE_URL", "SESSION_SECRET", "TOKEN_ENCRYPTION_KEY", "PUBLIC_URL", "ALLOW_SANDBOX_IN_PRODUCTION", "SMTP_URL", "ALLOW_OUTBOX_IN_PRODUCTION"]) {
      assert.match(p.output(), new RegExp(name));
    }
    assert.doesNotMatch(p.output(), /at .*\.ts:\d+/, "no stack trace");
    rmSync(cwd, { recursive: true, force: true });
  });

  it("a port in use stops start-up with a message naming PORT, not a stack trace", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "0.0.0.0", resolve));
    const dataDir = mkdtempSync(join(tmpdir(), "aiq-busy-"));
    try {
      const p = spawnProcess({ env: { NODE_ENV: "test", PORT: String((taken.address() as AddressInfo).port), DATA_DIR: dataDir, LOG_LEVEL: "warn", ...TEST_SECRETS } });
      assert.equal(await p.exited, 1);
      assert.match(p.output(), /already in use.*set PORT/);
      assert.doesNotMatch(p.output(), /at .*\.ts:\d+/, "no stack trace");
    } finally {
      taken.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a wrong value stops start-up naming the variable", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "aiq-bad-"));
    const p = spawnProcess({ env: { PORT: "not-a-port", DATA_DIR: dataDir } });
    assert.equal(await p.exited, 1);
    rmSync(dataDir, { recursive: true, force: true });
    assert.match(p.output(), /PORT/);
  });

  it("two servers starting together on one empty database both come up; the schema is applied once", { skip: needsRealPostgres }, async () => {
    const db = await createTestDatabase();
    const dataDirs = [1, 2].map(() => mkdtempSync(join(tmpdir(), "aiq-m-")));
    const servers = await Promise.all(
      dataDirs.map((dataDir) => spawnServerOnFreePort({ envFor: (port) => ({ PORT: String(port), DATABASE_URL: db.url, DATA_DIR: dataDir, ...TEST_SECRETS }) })),
    );
    try {
      for (const s of servers) assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const applied = await c.query("select count(*)::int as n from drizzle.__drizzle_migrations");
      const journal = readdirSync(new URL("../../database/migrations", import.meta.url)).filter((f) => f.endsWith(".sql"));
      assert.equal(applied.rows[0].n, journal.length);
      await c.end();
    } finally {
      await Promise.all(servers.map((s) => s.kill()));
      await db.drop();
      for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it("npm start on a fresh clone builds the bundle and runs it; a bundle it cannot write runs the TypeScript instead", async () => {
    const clone = freshClone();
    try {
      const started = await startScript(clone.dir);
      try {
        assert.ok(existsSync(join(clone.dir, "dist", "server", "index.js")), "dist/server/index.js built");
        assert.doesNotMatch(started.output(), /tsx instead/);
      } finally {
        assert.equal(await started.stop(), 0, "SIGTERM shuts the bundled server down cleanly");
      }
      // dist is a file: the bundle cannot be written; the server still starts, saying why.
      rmSync(join(clone.dir, "dist"), { recursive: true });
      writeFileSync(join(clone.dir, "dist"), "");
      const fallback = await startScript(clone.dir);
      try {
        assert.match(fallback.output(), /Could not build .* running server\/index\.ts through tsx instead/);
      } finally {
        assert.equal(await fallback.stop(), 0);
      }
    } finally {
      clone.remove();
    }
  });
});

/** Runs scripts/start.mjs (what `npm start` runs) in `cwd` with nothing configured, until /readyz answers 200. */
async function startScript(cwd: string) {
  const port = await freePort();
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) assert.fail(`start.mjs exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      assert.fail(`not ready:\n${out}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: () => out,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
