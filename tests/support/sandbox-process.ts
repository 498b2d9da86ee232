// The platform sandbox as its own OS process (`npm run sandbox`), as a
// platform is another machine: tests with several runner processes and the
// benchmarks use it, so that the sandbox never competes with the test
// runner's event loop (a starved in-process sandbox carried requests out
// seconds after their callers gave up).
import assert from "node:assert/strict";
import { spawnProcess, REPO_ROOT } from "./process.ts";
import { freePort, TEST_SECRETS } from "./server.ts";

export interface SandboxProcess {
  url: string;
  /** Its OS process id (the benchmarks read its CPU time). */
  pid: number;
  /** Calls the sandbox's control API (faults, latency, settings…); asserts a 2xx and returns the JSON answer. */
  control(path: string, method?: string, body?: unknown): Promise<any>;
  output(): string;
  close(): Promise<void>;
}

/** A port for the sandbox before the server that points at it starts. */
export const sandboxPort = freePort;

/** Starts the sandbox on `port`, its redirect URIs registered for `appUrl` (the server connections are made through). */
export async function startSandboxProcess(appUrl: string, port: number): Promise<SandboxProcess> {
  const p = spawnProcess({
    script: `${REPO_ROOT}server/platforms/sandbox/cli.ts`,
    env: { NODE_ENV: "development", PUBLIC_URL: appUrl, SANDBOX_PORT: String(port), LOG_LEVEL: "warn", ...TEST_SECRETS },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`sandbox exited:\n${p.output()}`);
    try {
      if ((await fetch(`${url}/_control/settings`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      p.child.kill("SIGKILL");
      throw new Error(`sandbox did not start:\n${p.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: p.child.pid!,
    output: p.output,
    async control(path, method = "POST", body) {
      const r = await fetch(`${url}/_control${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    },
    async close() {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
      await p.exited;
    },
  };
}
