// Adapters wired to a standalone sandbox over real HTTP, plus a browser-like
// walk through the consent page.
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Platform } from "../../shared/schema.ts";
import { loadConfig, type Config } from "../../server/config.ts";
import { createPlatformAdapters, type PlatformAdapters } from "../../server/platforms/registry.ts";
import { startSandbox, type RunningSandbox } from "../../server/platforms/sandbox/index.ts";
import type { NewConnection, PlatformStateStore } from "../../server/platforms/types.ts";
import { TestClock } from "../support/clock.ts";
import { TEST_SECRETS } from "../support/server.ts";

export const APP_URL = "http://127.0.0.1:5999";

export interface AuthorizeOptions {
  user?: string;
  decision?: "allow" | "deny";
  state?: string;
  verifier?: string;
  /** Meta: permissions the user unticks on the consent dialog. */
  declined?: string[];
  /** Authorize parameters to leave out (e.g. auth_type, to see what happens without it). */
  without?: string[];
}

export interface Harness {
  sandbox: RunningSandbox;
  clock: TestClock;
  config: Config;
  adapters: PlatformAdapters;
  control(path: string, body?: unknown, method?: string): Promise<any>;
  authorize(platform: Platform, o?: AuthorizeOptions): Promise<URL>;
  connect(platform: Platform, user?: string): Promise<NewConnection>;
  close(): Promise<void>;
}

/** Config and adapters for a sandbox at `sandboxUrl` (any URL: tests also point at a closed port). */
export function adaptersFor(sandboxUrl: string, clock: TestClock, timeoutMs = 1500, env: Record<string, string> = {}): { config: Config; adapters: PlatformAdapters } {
  const config = loadConfig({
    NODE_ENV: "test",
    PLATFORM_MODE: "sandbox",
    PUBLIC_URL: APP_URL,
    PLATFORM_SANDBOX_URL: sandboxUrl,
    // Never created: with the test secrets given, nothing is written to DATA_DIR (no temp folder left behind).
    DATA_DIR: join(tmpdir(), `aiq-platforms-unused-${process.pid}`),
    ...TEST_SECRETS,
    ...env,
  });
  return { config, adapters: createPlatformAdapters({ config, clock }, { timeoutMs }) };
}

export async function harness(options: { timeoutMs?: number } = {}): Promise<Harness> {
  const clock = new TestClock(new Date());
  const sandbox = await startSandbox({ clock, appUrl: APP_URL });
  const { config, adapters } = adaptersFor(sandbox.url, clock, options.timeoutMs);

  async function control(path: string, body?: unknown, method = body === undefined ? "GET" : "POST") {
    const res = await fetch(`${sandbox.url}/_control${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 400) throw new Error(`control ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function authorize(platform: Platform, o: AuthorizeOptions = {}) {
    const oauth = adapters[platform].oauth();
    const q = new URLSearchParams({
      client_id: oauth.clientID,
      redirect_uri: oauth.callbackURL,
      response_type: "code",
      scope: oauth.scope.join(oauth.scopeSeparator),
      state: o.state ?? randomBytes(12).toString("hex"),
      ...oauth.authorizationParams,
    });
    for (const k of o.without ?? []) q.delete(k);
    if (oauth.pkce && o.verifier) {
      q.set("code_challenge", createHash("sha256").update(o.verifier).digest("base64url"));
      q.set("code_challenge_method", "S256");
    }
    const page = await fetch(`${oauth.authorizationURL}?${q}`);
    if (page.status !== 200) throw new Error(`consent page: ${page.status} ${await page.text()}`);
    const form = new URLSearchParams(q);
    form.set("user", o.user ?? "sandbox-user");
    form.set("decision", o.decision ?? "allow");
    if (o.declined) form.set("declined", o.declined.join(","));
    const res = await fetch(`${oauth.authorizationURL}?${q}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      redirect: "manual",
    });
    if (res.status !== 302) throw new Error(`consent decision: ${res.status} ${await res.text()}`);
    return new URL(res.headers.get("location")!);
  }

  async function connect(platform: Platform, user = "sandbox-user"): Promise<NewConnection> {
    const verifier = randomBytes(32).toString("base64url");
    const back = await authorize(platform, { user, verifier });
    const code = back.searchParams.get("code");
    if (!code) throw new Error(`no code: ${back}`);
    const tokens = await adapters[platform].exchangeCode({ code, codeVerifier: verifier });
    const shaped = await adapters[platform].shapeConnection(tokens);
    if (shaped.kind !== "connection") throw new Error("expected one connection");
    return shaped.connection;
  }

  return { sandbox, clock, config, adapters, control, authorize, connect, close: () => sandbox.close() };
}

/** Runs a call that must fail and returns what it threw. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

/** A post's platform state kept in memory (what posts.platform_state is to the runner), readable as `value`. */
export function memoryState(): PlatformStateStore & { value: Record<string, unknown> } {
  const store = {
    value: {} as Record<string, unknown>,
    async get() {
      return structuredClone(store.value);
    },
    async set(patch: Record<string, unknown>) {
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete store.value[k];
        else store.value[k] = structuredClone(v);
      }
    },
  };
  return store;
}
