import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
process.env.DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const { createTestDatabase } = await import("../support/database.ts");
const { Client } = await import("../support/client.ts");
const { freePort, newIdentity, TEST_SECRETS } = await import("../support/server.ts");
const { runLoad } = await import("./load.ts");
const db = await createTestDatabase();
const port = await freePort();
const profDir = process.argv[2] ?? "/tmp/perf-prof-user";
const child = spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--import", import.meta.resolve("tsx"), "server/index.ts"], {
  env: { PATH: process.env.PATH, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATABASE_URL: db.url, DATA_DIR: mkdtempSync(join(tmpdir(), "aiq-p-")), LOG_LEVEL: "warn", REQUIRE_PHONE_VERIFICATION: "false", SIGNUPS_PER_IP_PER_HOUR: "100000", ...TEST_SECRETS },
  stdio: "inherit",
});
const url = `http://127.0.0.1:${port}`;
for (;;) { try { if ((await fetch(`${url}/readyz`)).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const cookies: string[] = [];
for (let i = 0; i < 50; i++) { const c = new Client(url); const r = await c.post("/api/auth/signup", newIdentity("b")); if (r.status !== 201) throw new Error(r.text); cookies.push(c.cookieHeader); }
await runLoad({ url: `${url}/api/user`, clients: 50, seconds: 1, headersFor: (i) => ({ cookie: cookies[i]! }) });
const r = await runLoad({ url: `${url}/api/user`, clients: 50, seconds: Number(process.argv[3] ?? 8), headersFor: (i) => ({ cookie: cookies[i]! }) });
console.log("rps", r.rps.toFixed(0), "errors", r.errors);
child.kill("SIGTERM"); await new Promise((r) => child.once("exit", r));
await db.drop();
