// README.md's "First ten minutes", run from the README's own text so it cannot
// rot: the `sh walkthrough-server` block starts the server (as `npm start`
// does, in its own process group), the `sh walkthrough` blocks run in one bash
// with `set -e`, and the browser step between the second and the last block is
// done the way the README says — in Chromium on http://127.0.0.1:<port>/connect
// (the other loopback spelling), logging in on the page, Connect, Allow — or,
// without Chromium, through the same HTTP calls. Only the port and the data
// folder are substituted.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { launchChromium, logInAndConnect, noBrowser } from "../support/browser.ts";
import { Client } from "../support/client.ts";
import { connectPlatform } from "../support/connect.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { REPO_ROOT } from "../support/process.ts";
import { freePort } from "../support/server.ts";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const blocks = (tag: string) => [...readme.matchAll(new RegExp("```sh " + tag + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

/** Polls until probe gives a value (errors count as "not yet"); `failed` ends the wait at once. */
async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>, failed: () => boolean = () => false): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (failed()) throw new Error(`stopped waiting for ${what}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("README: first ten minutes", () => {
  let port: number;
  let work: string;
  let dataDir: string;
  let database: TestDatabase;
  let serverOutput = "";
  let stopServer: () => Promise<void> = async () => {};
  const local = (text: string) => text.replaceAll("localhost:5000", `localhost:${port}`).replaceAll("data/outbox/", `${dataDir}/outbox/`);

  before(async () => {
    port = await freePort();
    work = mkdtempSync(join(tmpdir(), "aiq-walkthrough-"));
    dataDir = join(work, "data");
    database = await createTestDatabase();
    const [serverBlock] = blocks("walkthrough-server");
    assert.ok(serverBlock, "README has a walkthrough-server block");
    const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: database.url, NODE_ENV: "development" };
    delete env.TEST_DATABASE_URL;
    if (!database.url) delete env.DATABASE_URL;
    const server = spawn("sh", ["-c", local(serverBlock)], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (d) => (serverOutput += d));
    server.stderr!.on("data", (d) => (serverOutput += d));
    const exited = new Promise<void>((r) => server.once("exit", () => r()));
    stopServer = async () => {
      if (server.exitCode === null) process.kill(-server.pid!, "SIGTERM");
      await exited;
    };
    await until("the server's /readyz", 120_000, async () => ((await fetch(`http://localhost:${port}/readyz`)).ok ? true : undefined), () => server.exitCode !== null).catch(
      (e) => assert.fail(`${e.message}: the server exited\n${serverOutput.slice(-3000)}`),
    );
  });

  after(async () => {
    await stopServer();
    await database?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("goes from nothing to a post published on the sandbox, as the README says", async () => {
    const steps = blocks("walkthrough");
    assert.equal(steps.length, 3, "sign up, get a plan, (browser connect), post");
    // Between the second and the last block the script waits for the browser step, which this test does.
    const script = [
      "set -e",
      local(steps[0]!),
      local(steps[1]!),
      'printf "%s\\n%s\\n" "$EMAIL" "$PASSWORD" > browser.todo',
      "while [ ! -f browser.done ]; do sleep 0.2; done",
      local(steps[2]!),
    ].join("\n");
    const shell = spawn("bash", ["-c", script], { cwd: work, env: { ...process.env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    shell.stdout!.on("data", (d) => (out += d));
    shell.stderr!.on("data", (d) => (out += d));
    const shellExit = new Promise<number | null>((r) => shell.once("exit", (code) => r(code)));

    const todo = join(work, "browser.todo");
    const [email, password] = await until(
      "the walkthrough to reach the browser step",
      120_000,
      async () => (existsSync(todo) ? readFileSync(todo, "utf8").trim().split("\n") : undefined),
      () => shell.exitCode !== null,
    ).catch((e) => assert.fail(`${e.message}\n--- walkthrough output:\n${out}\n--- server:\n${serverOutput.slice(-3000)}`));
    assert.match(out, /"user":\{[^}]*"email":"owner@example.com"/, "signed up");
    assert.match(out, /"email":"owner@example.com","phone":"\+61400000000","phoneVerified":true/, "the same cookie session verified the phone");
    assert.match(out, /"plan":"starter"/, "the gift certificate granted a plan");

    if (!noBrowser) {
      const browser = await launchChromium();
      try {
        await logInAndConnect(browser, `http://127.0.0.1:${port}/connect`, { email: email!, password: password! }, "linkedin");
      } finally {
        await browser.close();
      }
    } else {
      const client = new Client(`http://localhost:${port}`);
      assert.equal((await client.post("/api/auth/login", { email, password })).status, 200);
      await connectPlatform(client, "linkedin");
    }
    writeFileSync(join(work, "browser.done"), "");

    const code = await shellExit;
    assert.equal(code, 0, `walkthrough failed:\n${out}\n--- server:\n${serverOutput.slice(-3000)}`);
    assert.match(out, /\{"success":true,"post":\{[^]*"status":"published"[^]*"platformPostId":"urn:li:share:/);
    const published = JSON.parse(out.slice(out.lastIndexOf('{"posts":')));
    assert.deepEqual(
      published.posts.map((p: { platform: string; text?: string; commentary?: string }) => p.platform),
      ["linkedin"],
    );
    assert.match(JSON.stringify(published.posts[0]), /Hello from AgencyIQ/);
  });
});
