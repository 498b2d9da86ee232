// Runs the server as a separate OS process (the way `npm start` does), for
// tests that need several processes on one database or a crash.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
// tsx as a loader of this node process, not the tsx CLI: the CLI runs the
// script in a second node process, so a SIGKILL would hit only the wrapper.
const TSX_LOADER = import.meta.resolve("tsx");

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  /** The script to run; the server entry point by default. */
  script?: string;
}

/** Spawns a process with only the given environment (plus PATH and HOME). */
export function spawnProcess({ env, cwd = REPO_ROOT, script = `${REPO_ROOT}server/index.ts` }: SpawnOptions) {
  const child = spawn(process.execPath, ["--import", TSX_LOADER, script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Spawns the server and waits until /readyz answers 200. */
export async function spawnServer(options: SpawnOptions & { port: number; timeoutMs?: number }): Promise<ServerProcess> {
  const p = spawnProcess(options);
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let exitCode: number | null | undefined;
  p.exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`server exited with ${exitCode}:\n${p.output()}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (Date.now() >= deadline) {
    p.child.kill("SIGKILL");
    throw new Error(`server did not become ready:\n${p.output()}`);
  }
  // Another process's server on the port answered: ours failed to bind.
  if (exitCode !== undefined) throw new Error(`server exited with ${exitCode}:\n${p.output()}`);
  return {
    ...p,
    url,
    async kill(signal = "SIGTERM") {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
      return p.exited;
    },
  };
}

/**
 * Spawns the server on a free port, with the environment `envFor(port)` gives.
 * A port is chosen before the child binds it, seconds later on a loaded
 * machine; if another process took it meanwhile, the child fails with
 * EADDRINUSE and is started again on another port.
 */
export async function spawnServerOnFreePort(options: Omit<SpawnOptions, "env"> & { envFor: (port: number) => Record<string, string | undefined>; timeoutMs?: number }): Promise<ServerProcess> {
  const { freePort } = await import("./server.ts");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await spawnServer({ ...options, env: options.envFor(port), port });
    } catch (err) {
      if (attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}
