// Runs the Dockerfile's instructions in a plain shell, for machines without a
// Docker engine: each stage gets a folder standing for its filesystem root's
// WORKDIR; COPY copies from the build context (honouring .dockerignore's simple
// patterns) or from an earlier stage; RUN runs with sh -c under the stage's ENV.
// Then the final CMD starts against DATABASE_URL (a real PostgreSQL, required),
// as USER when that user exists here (else as `nobody`, which owns only DATA_DIR), the
// HEALTHCHECK command is polled until it passes, and SIGTERM must stop it cleanly.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx .ci/dockerfile-dry-run.ts
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";

const root = resolve(import.meta.dirname, "..");
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error("set DATABASE_URL to a PostgreSQL server (a fresh database is created there and dropped)");

const text = readFileSync(join(root, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
const instructions = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
const ignored = readFileSync(join(root, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter(Boolean);

const work = mkdtempSync(join(tmpdir(), "dockerfile-"));
const stages = new Map<string, string>();
let dir = "";
let env: Record<string, string> = {};
let user = "root";
let cmd: string[] = [];
let health: string[] = [];
const sh = (command: string) => {
  console.log(`$ ${command}`);
  // A private npm cache: the image's `npm cache clean` must not empty this machine's.
  const r = spawnSync("sh", ["-c", command], { cwd: dir, stdio: "inherit", env: { ...process.env, ...env, npm_config_cache: join(work, "npm-cache") } });
  if (r.status !== 0) throw new Error(`RUN failed (${r.status}): ${command}`);
};
const json = (rest: string) => JSON.parse(rest) as string[];

for (const line of instructions) {
  const [, op, rest = ""] = /^(\S+)\s*(.*)$/.exec(line)!;
  switch (op!.toUpperCase()) {
    case "FROM": {
      const name = /\bAS\s+(\S+)/i.exec(rest)?.[1] ?? String(stages.size);
      dir = join(work, name, "app");
      stages.set(name, dir);
      env = {};
      user = "root";
      break;
    }
    case "WORKDIR":
      if (rest !== "/app") throw new Error(`only WORKDIR /app is simulated, got ${rest}`);
      spawnSync("mkdir", ["-p", dir]);
      break;
    case "ENV":
      for (const m of rest.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!.replace(/^\/app/, dir);
      break;
    case "COPY": {
      const from = /--from=(\S+)/.exec(rest)?.[1];
      const parts = rest.replace(/--from=\S+\s*/, "").split(/\s+/);
      const target = parts.pop()!;
      for (const src of parts) {
        const source = from ? join(stages.get(from)!.replace(/\/app$/, ""), src) : join(root, src);
        if (!from && ignored.includes(src)) throw new Error(`COPY ${src} is excluded by .dockerignore`);
        const dest = target.endsWith("/") || parts.length > 1 ? join(dir, target, src.split("/").pop()!) : join(dir, target);
        cpSync(source, dest, { recursive: true, filter: (p) => from !== undefined || !ignored.some((i) => p.endsWith(`/${i}`)) });
      }
      break;
    }
    case "RUN":
      sh(rest.replace(/chown node:node/g, "chown nobody:nogroup").replace(/\/app\b/g, dir));
      break;
    case "USER":
      user = rest;
      break;
    case "HEALTHCHECK":
      health = json(rest.slice(rest.indexOf("CMD") + 3).trim());
      break;
    case "CMD":
      cmd = json(rest);
      break;
    case "EXPOSE":
      break;
    default:
      throw new Error(`instruction not simulated: ${op}`);
  }
}

const runAs = spawnSync("id", ["-u", user]).status === 0 ? user : "nobody";
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
const db = `dockerfile_dry_run_${process.pid}`;
await admin.query(`create database ${db}`);
const url = new URL(baseUrl);
url.pathname = `/${db}`;
const port = String(15000 + (process.pid % 1000));
const runtimeEnv = {
  PATH: process.env.PATH!,
  ...env,
  PORT: port,
  DATABASE_URL: url.toString(),
  PUBLIC_URL: `http://localhost:${port}`,
  SESSION_SECRET: "dockerfile-dry-run-secret-0123456789abcdef",
  TOKEN_ENCRYPTION_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
  SMTP_URL: "smtp://127.0.0.1:1025",
  PLATFORM_MODE: "sandbox",
  ALLOW_SANDBOX_IN_PRODUCTION: "true",
};
chmodSync(work, 0o755); // mkdtemp's 0700 would keep the unprivileged user out of the code it runs
console.log(`$ (as ${runAs}) ${cmd.join(" ")}`);
const server = spawn("setpriv", [`--reuid=${runAs}`, `--regid=${runAs === "nobody" ? "nogroup" : runAs}`, "--init-groups", ...cmd], { cwd: dir, env: runtimeEnv, stdio: ["ignore", "pipe", "inherit"] });
let output = "";
server.stdout.on("data", (d) => (output += d));
const exited = new Promise<number | null>((r) => server.on("exit", (code) => r(code)));
try {
  let healthy = false;
  for (let i = 0; i < 120 && !healthy; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    healthy = spawnSync(health[0]!, health.slice(1), { cwd: dir, env: runtimeEnv }).status === 0;
  }
  if (!healthy) throw new Error(`HEALTHCHECK never passed:\n${output.slice(-2000)}`);
  console.log(`HEALTHCHECK passed: ${health.join(" ").slice(0, 80)}…`);
  server.kill("SIGTERM");
  const code = await exited;
  if (code !== 0) throw new Error(`SIGTERM: exit ${code}`);
  console.log("SIGTERM: clean exit 0");
} finally {
  if (server.exitCode === null) server.kill("SIGKILL");
  await admin.query(`drop database if exists ${db} with (force)`);
  await admin.end();
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
