// `npm run gift -- create …`: prints new codes once and stores only their
// hash and hint; bad arguments exit non-zero and write nothing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { openDatabase, type Database } from "../../server/db/index.ts";
import { canonicalGiftCode, giftCodeHash } from "../../server/onboarding/gift-codes.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { spawnProcess, spawnServerOnFreePort } from "../support/process.ts";
import { freePort, TEST_SECRETS } from "../support/server.ts";

const run = promisify(execFile);

describe("gift certificate CLI", () => {
  let dataDir: string;
  let testDb: TestDatabase;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "aiq-gift-"));
    testDb = await createTestDatabase();
  });
  after(async () => {
    await testDb.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function gift(...args: string[]) {
    const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: "test", DATA_DIR: dataDir, DATABASE_URL: testDb.url, LOG_LEVEL: "silent" };
    if (!testDb.url) delete env.DATABASE_URL;
    delete env.TEST_DATABASE_URL;
    try {
      const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "server/onboarding/gift-cli.ts", ...args], { env, cwd: process.cwd() });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async function withDatabase<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const database = await openDatabase({ url: testDb.url, embeddedDir: join(dataDir, "pglite") });
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  }

  it("creates N certificates, prints their codes, stores hashes", async () => {
    const out = await gift("create", "--plan", "professional", "--for", "Acme Pty Ltd", "--count", "3");
    assert.equal(out.code, 0, out.stderr);
    const codes = out.stdout.trim().split("\n");
    assert.equal(codes.length, 3);
    assert.match(out.stderr, /Created 3 professional/);
    const rows = await withDatabase(async (d) => (await d.pool.query("select code_hash, code_hint, plan, created_for, is_used from gift_certificates order by id")).rows);
    assert.equal(rows.length, 3);
    const hashes = new Set(rows.map((r) => r.code_hash));
    for (const code of codes) {
      const canonical = canonicalGiftCode(code)!;
      assert.ok(canonical, code);
      assert.ok(hashes.has(giftCodeHash(canonical)));
    }
    assert.ok(rows.every((r) => r.plan === "professional" && r.created_for === "Acme Pty Ltd" && r.is_used === false));
    assert.ok(!JSON.stringify(rows).includes(canonicalGiftCode(codes[0]!)!));
  });

  it("refuses bad arguments with a usage line and writes nothing", async () => {
    for (const args of [
      ["create", "--plan", "gold", "--for", "x"],
      ["create", "--plan", "starter"],
      ["create", "--plan", "starter", "--for", "x", "--count", "0"],
      ["create", "--plan", "starter", "--for", "x", "--count", "two"],
      ["delete", "--plan", "starter", "--for", "x"],
      ["create", "--plan", "starter", "--for", "x", "--bogus"],
    ]) {
      const out = await gift(...args);
      assert.equal(out.code, 2, args.join(" "));
      assert.match(out.stderr, /Usage: npm run gift/);
      assert.equal(out.stdout, "");
    }
    const n = await withDatabase(async (d) => (await d.pool.query("select count(*)::int as n from gift_certificates")).rows[0].n);
    assert.equal(n, 3);
  });

  it("refuses to open an embedded data folder a running server holds, and works once it has stopped", async () => {
    const folder = mkdtempSync(join(tmpdir(), "aiq-gift-live-"));
    const server = await spawnServerOnFreePort({ envFor: (port) => ({ NODE_ENV: "test", PORT: String(port), DATA_DIR: folder, LOG_LEVEL: "warn", ...TEST_SECRETS }) });
    const giftIn = (dir: string) =>
      run(process.execPath, ["--import", "tsx", "server/onboarding/gift-cli.ts", "create", "--plan", "starter", "--for", "Live"], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", DATA_DIR: dir, LOG_LEVEL: "silent", ...TEST_SECRETS },
      }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    try {
      const busy = await giftIn(folder);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /in use by process \d+ \(the server is running on this data folder\)/);
      assert.match(busy.stderr, /DATABASE_URL/);
      assert.equal(busy.stdout, "", "no code printed");
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200, "the server is untouched");
      // A second server on the same folder is refused the same way.
      const second = spawnProcess({ env: { NODE_ENV: "test", PORT: String(await freePort()), DATA_DIR: folder, ...TEST_SECRETS } });
      assert.equal(await second.exited, 1);
      assert.match(second.output(), /in use by process/);
    } finally {
      assert.equal(await server.kill("SIGTERM"), 0);
    }
    try {
      const free = await giftIn(folder);
      assert.equal(free.code, 0, free.stderr);
      assert.equal(free.stdout.trim().split("\n").length, 1, "one code once the server stopped");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
