// The platform sandbox as its own OS process (`npm run sandbox`), as a
// platform is another machine: tests with several runner processes and the
// benchmarks use it, so that the sandbox never competes with the test
// runner's event loop (a starved in-process sandbox carried requests out
// seconds after their callers gave up).
import assert from "node:assert/strict";
import { spawnProcess, REPO_ROOT } from "./process.ts";
import { TEST_SECRETS } from "./server.ts";

export interface SandboxProcess {
  url: string;
  /** Its OS process id (the benchmarks read its CPU time). */
  pid: number;
  /** Calls the sandbox's control API (faults, latency, settings…); asserts a 2xx and returns the JSON answer. */
  control(path: string, method?: string, body?: unknown): Promise<any>;
  /** Registers the product the sandbox serves (its PUBLIC_URL). */
  serve(appUrl: string): Promise<void>;
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts the sandbox on a port the kernel picks (SANDBOX_PORT=0) and reads the
 * port from its start-up line, so no other process can take the port between
 * a choice and the bind. The server it serves starts afterwards and is named
 * with `serve(appUrl)` (its redirect URIs and Stripe's webhook endpoint).
 */
export async function startSandboxProcess(): Promise<SandboxProcess> {
  const p = spawnProcess({
    script: `${REPO_ROOT}server/platforms/sandbox/cli.ts`,
    env: { NODE_ENV: "development", SANDBOX_PORT: "0", LOG_LEVEL: "warn", ...TEST_SECRETS },
  });
  const deadline = Date.now() + 60_000;
  let port: string | undefined;
  while (!(port = /Platform sandbox on port (\d+)/.exec(p.output())?.[1])) {
    if (p.child.exitCode !== null) throw new Error(`sandbox exited:\n${p.output()}`);
    if (Date.now() > deadline) {
      p.child.kill("SIGKILL");
      throw new Error(`sandbox did not start:\n${p.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port}`;
  const control: SandboxProcess["control"] = async (path, method = "POST", body) => {
    const r = await fetch(`${url}/_control${path}`, {
      method,
      // No pooled socket the sandbox may be closing at its idle timeout (see tests/support/client.ts).
      headers: { "content-type": "application/json", connection: "close" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    pid: p.child.pid!,
    output: p.output,
    control,
    async serve(appUrl) {
      await control("/app", "PUT", { appUrl });
    },
    async close() {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
      await p.exited;
    },
  };
}
