// The environment, parsed once into a typed, nested Config. Nothing else in the
// server reads process.env: tests build a Config from their own variables.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import cron from "node-cron";
import { z } from "zod";
import { CREDENTIAL_VARIABLES, liveUrls, SANDBOX_CREDENTIALS, sandboxUrls } from "./platforms/endpoints.ts";

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes"].includes(v)));
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));

// 32 bytes, given as 64 hex characters or base64.
const key32 = optionalText.refine((v) => v === undefined || decodeKey(v) !== null, {
  message: "must be 32 bytes as 64 hex characters or base64",
});

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: int(5000),
  PUBLIC_URL: optionalText.refine((v) => v === undefined || /^https?:\/\/[^/]+$/.test(v.replace(/\/$/, "")), {
    message: "must be an origin such as https://app.example.com (no path)",
  }),
  DATABASE_URL: optionalText,
  DATA_DIR: z.string().default("./data"),
  SESSION_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, { message: "must be at least 32 characters" }),
  SESSION_IDLE_MINUTES: int(24 * 60, 1),
  TOKEN_ENCRYPTION_KEY: key32,
  TOKEN_ENCRYPTION_KEY_VERSION: int(1, 1),
  // Older keys still needed to read rows not yet re-encrypted: "1:<key>,2:<key>".
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: optionalText,
  PLATFORM_MODE: z.enum(["sandbox", "live"]).optional(),
  ALLOW_SANDBOX_IN_PRODUCTION: bool(false),
  ALLOW_OUTBOX_IN_PRODUCTION: bool(false),
  TRUST_PROXY: optionalText,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  STATIC_DIR: optionalText,
  OPS_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, { message: "must be at least 16 characters" }),
  // The React client signs up without a code (README "The React client"): true refuses unproven phones.
  REQUIRE_PHONE_VERIFICATION: bool(false),
  PHONE_VERIFICATION_MAX_AGE_MINUTES: int(60, 1),
  SIGNUPS_PER_IP_PER_HOUR: int(20, 1),
  SMTP_URL: optionalText,
  MAIL_FROM: z.string().default("AgencyIQ <no-reply@agencyiq.local>"),
  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_FROM: optionalText,
  PLAN_STARTER_POSTS: int(12),
  PLAN_GROWTH_POSTS: int(27),
  PLAN_PROFESSIONAL_POSTS: int(52),
  CYCLE_DAYS: int(30, 1),
  CYCLE_NOTIFY_CRON: z.string().default("0 9 * * *").refine((v) => cron.validate(v), { message: "must be a cron expression such as 0 9 * * *" }),
  CYCLE_NOTIFY_TZ: z.string().default("Australia/Brisbane").refine(isTimeZone, { message: "must be an IANA time zone such as Australia/Brisbane" }),
  // Overrides of timer schedules by job name ("connection-check=*/5 * * * * *;cycle-close=0 * * * *"): tests and operators.
  JOB_SCHEDULES: z
    .string()
    .optional()
    .refine((v) => v === undefined || parseJobSchedules(v) !== null, { message: "must be name=cron pairs separated by ; (e.g. cycle-close=*/10 * * * * *)" }),
  CONNECTION_CHECK_INTERVAL_MINUTES: int(5),
  TOKEN_REFRESH_MARGIN_MINUTES: int(15),
  RUNNER_INTERVAL_SECONDS: int(60),
  // Publishing runner: batch, lease, concurrency, retries, circuit breaker, shutdown bound.
  RUNNER_BATCH_SIZE: int(100, 1),
  RUNNER_LEASE_SECONDS: int(300, 1),
  RUNNER_CONCURRENCY_PER_PLATFORM: int(8, 1),
  RUNNER_CONCURRENCY_PER_CONNECTION: int(2, 1),
  RUNNER_SHUTDOWN_GRACE_MS: int(10_000),
  PUBLISH_MAX_ATTEMPTS: int(5, 1),
  PUBLISH_BACKOFF_BASE_MS: int(30_000),
  PUBLISH_BACKOFF_MAX_MS: int(3_600_000),
  PUBLISH_RECONCILE_DELAY_MS: int(30_000),
  PUBLISH_RECONCILE_SECOND_LOOK_MS: int(30_000),
  BREAKER_FAILURE_THRESHOLD: int(5, 1),
  BREAKER_COOLDOWN_SECONDS: int(60),
  ANALYTICS_INTERVAL_MINUTES: int(60, 1),
  // Keep-alive events on /api/subscription-status-sse, under the usual 30-60 s proxy idle timeouts.
  SSE_PING_SECONDS: int(25, 1),
  FACEBOOK_APP_ID: optionalText,
  FACEBOOK_APP_SECRET: optionalText,
  INSTAGRAM_APP_ID: optionalText,
  INSTAGRAM_APP_SECRET: optionalText,
  LINKEDIN_CLIENT_ID: optionalText,
  LINKEDIN_CLIENT_SECRET: optionalText,
  X_CLIENT_ID: optionalText,
  X_CLIENT_SECRET: optionalText,
  TWITTER_CONSUMER_KEY: optionalText,
  TWITTER_CONSUMER_SECRET: optionalText,
  GOOGLE_CLIENT_ID: optionalText,
  GOOGLE_CLIENT_SECRET: optionalText,
  // Where the server reaches the sandbox: PUBLIC_URL/sandbox (mounted) unless a standalone one is named.
  PLATFORM_SANDBOX_URL: optionalText,
  SANDBOX_PORT: int(5055),
  PLATFORM_HTTP_TIMEOUT_MS: int(20_000, 100),
  FACEBOOK_GRAPH_VERSION: z.string().regex(/^v\d+\.\d+$/, "must look like v21.0").default("v21.0"),
  // Payments (server/billing): Stripe, or the sandbox's imitation of it when no secret key is set.
  STRIPE_SECRET_KEY: optionalText.refine((v) => v === undefined || /^(sk|rk)_(test|live)_/.test(v), {
    message: "must be a Stripe secret key (sk_test_… or sk_live_…)",
  }),
  STRIPE_WEBHOOK_SECRET: optionalText.refine((v) => v === undefined || v.startsWith("whsec_"), { message: "must be a webhook signing secret (whsec_…)" }),
  STRIPE_PRICE_STARTER: optionalText,
  STRIPE_PRICE_GROWTH: optionalText,
  STRIPE_PRICE_PROFESSIONAL: optionalText,
  // Strategic content (issue 15): local posting times, and the optional OpenAI-compatible model.
  CONTENT_TIMEZONE: z.string().default("Australia/Brisbane").refine(isTimeZone, { message: "must be an IANA time zone such as Australia/Brisbane" }),
  CONTENT_POST_TIMES: z
    .string()
    .default("09:00,12:30,18:00")
    .refine((v) => v.split(",").every((t) => /^([01]\d|2[0-3]):[0-5]\d$/.test(t.trim())), { message: "must be local times such as 09:00,12:30,18:00" }),
  LLM_API_KEY: optionalText,
  LLM_BASE_URL: optionalText.refine((v) => v === undefined || /^https?:\/\//.test(v), { message: "must be an http(s) URL such as https://api.openai.com/v1" }),
  LLM_MODEL: z.string().default("gpt-4o-mini"),
  LLM_TIMEOUT_MS: int(30_000, 100),
  LLM_MAX_ATTEMPTS: int(2, 1),
  // Unset: computed from the date (see platforms/linkedin-version.ts), so it never silently expires.
  LINKEDIN_API_VERSION: optionalText.refine((v) => v === undefined || /^\d{6}$/.test(v), { message: "must be YYYYMM" }),
  // Media a post points at (the guarded fetcher, server/media/fetch.ts).
  MEDIA_MAX_IMAGE_MB: int(8, 1),
  MEDIA_MAX_VIDEO_MB: int(512, 1),
  MEDIA_FETCH_TIMEOUT_SECONDS: int(300, 1),
  // Comma-separated URL prefixes fetched even though not public; sandbox mode adds its own /_media/.
  MEDIA_FETCH_ALLOW: optionalText,
  // Operator alerts (a platform paused for everyone: credits, app secret, API version).
  OPS_EMAIL: optionalText,
  // LinkedIn Pages (organization posting): needs LinkedIn's Community Management API product.
  LINKEDIN_PAGES: bool(false),
  // How long a client may take to send its headers, and its whole request (body included).
  HTTP_HEADERS_TIMEOUT_MS: int(15_000, 1000),
  HTTP_REQUEST_TIMEOUT_MS: int(30_000, 1000),
});

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

type Env = Record<string, string | undefined>;

/** "name=cron;name=cron" → a map, or null when a pair or an expression is malformed. */
function parseJobSchedules(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const pair of text.split(";").map((p) => p.trim()).filter(Boolean)) {
    const i = pair.indexOf("=");
    const name = pair.slice(0, i).trim();
    const expression = pair.slice(i + 1).trim();
    if (i <= 0 || !/^[a-z-]+$/.test(name) || !cron.validate(expression)) return null;
    out[name] = expression;
  }
  return out;
}

/**
 * A platform may carry out a request after we gave up on it (our timeout
 * fired while it was queued or processing there). Reconciliation looks for an
 * abandoned request no earlier than its deadline plus a settle margin of
 * PUBLISH_RECONCILE_DELAY_MS − PLATFORM_HTTP_TIMEOUT_MS, and the margin must
 * be at least half the timeout: a delay of 1.5 × the timeout or more (the
 * defaults: 30 s for 20 s). A shorter delay looks before a slow request has
 * landed, finds nothing, and sends the post a second time.
 */
export const MIN_RECONCILE_DELAY_PER_TIMEOUT = 1.5;

export function reconcileTimingProblem(reconcileDelayMs: number, timeoutMs: number): string | null {
  if (reconcileDelayMs >= timeoutMs * MIN_RECONCILE_DELAY_PER_TIMEOUT) return null;
  return (
    `PUBLISH_RECONCILE_DELAY_MS (${reconcileDelayMs}) must be at least ${MIN_RECONCILE_DELAY_PER_TIMEOUT} × PLATFORM_HTTP_TIMEOUT_MS (${timeoutMs}), ` +
    `i.e. ${Math.ceil(timeoutMs * MIN_RECONCILE_DELAY_PER_TIMEOUT)} or more: a request we gave up on can still land on the platform after its timeout, ` +
    `and looking for it sooner would send the post twice`
  );
}

export interface PlatformCredentials {
  clientId: string;
  clientSecret: string;
}

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {}

export function decodeKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  const b = Buffer.from(text, "base64");
  return b.length === 32 ? b : null;
}

function credentials(id?: string, secret?: string): PlatformCredentials | undefined {
  return id && secret ? { clientId: id, clientSecret: secret } : undefined;
}

/** Dev secrets are generated once and kept in DATA_DIR so sessions and tokens survive restarts. */
function devSecrets(dataDir: string): { sessionSecret: string; tokenKey: string } {
  const file = join(dataDir, "dev-secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  mkdirSync(dataDir, { recursive: true });
  const secrets = { sessionSecret: randomBytes(32).toString("hex"), tokenKey: randomBytes(32).toString("hex") };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

// What Express's `trust proxy` (proxy-addr) accepts by name, besides addresses and subnets.
const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);
const TRUST_PROXY_HELP =
  "set the number of proxies in front of the server (TRUST_PROXY=1 behind one proxy such as nginx or Replit's) or their addresses/subnets (TRUST_PROXY=loopback or 10.0.0.0/8,fd00::/8)";

function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address, prefix, extra] = entry.split("/");
  const family = isIP(address ?? "");
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  // A prefix length, or (IPv4 only) a netmask such as 255.255.0.0.
  if (/^\d{1,3}$/.test(prefix)) return Number(prefix) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(prefix) === 4;
}

/**
 * TRUST_PROXY decides where client addresses (every per-IP limit) come from.
 * `true` trusts every hop, so the client picks its own address with
 * X-Forwarded-For: refused in production, with what to set instead.
 */
function parseTrustProxy(v: string | undefined, production: boolean): boolean | number | string {
  if (v === undefined || v === "false") return false;
  if (v === "true") {
    if (production) {
      throw new ConfigError(`TRUST_PROXY=true lets every client choose its own IP address (X-Forwarded-For), which defeats the per-IP limits: ${TRUST_PROXY_HELP}`);
    }
    return true;
  }
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v.split(",").map((e) => e.trim());
  if (entries.some((e) => !isProxyEntry(e))) throw new ConfigError(`TRUST_PROXY: "${v}" is neither a hop count nor a list of addresses/subnets; ${TRUST_PROXY_HELP}`);
  return entries.join(",");
}

function parsePreviousKeys(text: string | undefined): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  for (const part of (text ?? "").split(",").filter(Boolean)) {
    const [version, key] = part.split(":");
    const buf = key ? decodeKey(key) : null;
    if (!/^\d+$/.test(version ?? "") || !buf) {
      throw new ConfigError("TOKEN_ENCRYPTION_PREVIOUS_KEYS: expected version:key pairs such as 1:<64 hex>");
    }
    keys.set(Number(version), buf);
  }
  return keys;
}

function buildConfig(e: z.infer<typeof envSchema>) {
  const production = e.NODE_ENV === "production";
  const dataDir = resolve(e.DATA_DIR);
  const platforms = {
    facebook: credentials(e.FACEBOOK_APP_ID, e.FACEBOOK_APP_SECRET),
    instagram:
      credentials(e.INSTAGRAM_APP_ID, e.INSTAGRAM_APP_SECRET) ?? credentials(e.FACEBOOK_APP_ID, e.FACEBOOK_APP_SECRET),
    linkedin: credentials(e.LINKEDIN_CLIENT_ID, e.LINKEDIN_CLIENT_SECRET),
    x: credentials(e.X_CLIENT_ID ?? e.TWITTER_CONSUMER_KEY, e.X_CLIENT_SECRET ?? e.TWITTER_CONSUMER_SECRET),
    youtube: credentials(e.GOOGLE_CLIENT_ID, e.GOOGLE_CLIENT_SECRET),
  };
  const anyCredentials = Object.values(platforms).some(Boolean);
  const platformMode = e.PLATFORM_MODE ?? (anyCredentials ? "live" : "sandbox");

  const missing: string[] = [];
  if (production) {
    if (!e.DATABASE_URL) missing.push("DATABASE_URL (a PostgreSQL server; the embedded database is for development)");
    if (!e.SESSION_SECRET) missing.push("SESSION_SECRET (at least 32 random characters)");
    if (!e.TOKEN_ENCRYPTION_KEY) missing.push("TOKEN_ENCRYPTION_KEY (32 bytes: 64 hex characters or base64)");
    if (!e.PUBLIC_URL) missing.push("PUBLIC_URL (the https origin users reach, base of every OAuth redirect)");
    if (platformMode === "sandbox" && !e.ALLOW_SANDBOX_IN_PRODUCTION) {
      missing.push(
        "platform credentials for live mode (FACEBOOK_APP_ID/SECRET, LINKEDIN_CLIENT_ID/SECRET, X_CLIENT_ID/SECRET, GOOGLE_CLIENT_ID/SECRET), or PLATFORM_MODE=sandbox with ALLOW_SANDBOX_IN_PRODUCTION=true",
      );
    }
    // Reconnect and cycle e-mails must reach people: a file on the server is not delivery.
    if (!e.SMTP_URL && !e.ALLOW_OUTBOX_IN_PRODUCTION) {
      missing.push("SMTP_URL (a mail transport for reconnect and cycle e-mails), or ALLOW_OUTBOX_IN_PRODUCTION=true to write them to DATA_DIR/outbox");
    }
  }
  if (production && e.STRIPE_SECRET_KEY) {
    // Without the signing secret no webhook can be verified: renewals and cancellations would be lost.
    if (!e.STRIPE_WEBHOOK_SECRET) missing.push("STRIPE_WEBHOOK_SECRET (the whsec_… signing secret of the Stripe webhook endpoint $PUBLIC_URL/api/webhooks/stripe)");
    for (const v of ["STRIPE_PRICE_STARTER", "STRIPE_PRICE_GROWTH", "STRIPE_PRICE_PROFESSIONAL"] as const) {
      if (!e[v]) missing.push(`${v} (the Stripe price id of that plan)`);
    }
  }
  if (missing.length) {
    throw new ConfigError(`Production needs:\n  - ${missing.join("\n  - ")}`);
  }
  const timing = reconcileTimingProblem(e.PUBLISH_RECONCILE_DELAY_MS, e.PLATFORM_HTTP_TIMEOUT_MS);
  if (timing) throw new ConfigError(`Invalid configuration:\n  - ${timing}`);

  const versions = { graph: e.FACEBOOK_GRAPH_VERSION, linkedin: e.LINKEDIN_API_VERSION };
  const sandboxUrl = (e.PLATFORM_SANDBOX_URL ?? `${(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, "")}/sandbox`).replace(/\/$/, "");
  const platformCredentials = platformMode === "sandbox" ? SANDBOX_CREDENTIALS : platforms;
  // Live mode: a platform without credentials is disabled, with the variables that would enable it.
  const disabled = Object.fromEntries(
    Object.entries(platformCredentials)
      .filter(([, c]) => !c)
      .map(([p]) => [p, `${p} is disabled: set ${CREDENTIAL_VARIABLES[p as keyof typeof CREDENTIAL_VARIABLES]}`]),
  ) as Partial<Record<keyof typeof platforms, string>>;

  const generated = !e.SESSION_SECRET || !e.TOKEN_ENCRYPTION_KEY ? devSecrets(dataDir) : undefined;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, "");

  return {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    publicUrl,
    publicOrigin: new URL(publicUrl).origin,
    /** Origins whose writes are accepted: PUBLIC_URL's; in development also its other loopback spelling. */
    allowedOrigins: allowedOrigins(new URL(publicUrl), production),
    dataDir,
    staticDir: e.STATIC_DIR ? resolve(e.STATIC_DIR) : undefined,
    trustProxy: parseTrustProxy(e.TRUST_PROXY, production),
    logLevel: e.LOG_LEVEL,
    opsToken: e.OPS_TOKEN,
    database: { url: e.DATABASE_URL, embeddedDir: join(dataDir, "pglite") },
    session: {
      secret: e.SESSION_SECRET ?? generated!.sessionSecret,
      cookieName: "aiq.sid",
      maxAgeMs: 7 * 24 * 60 * 60 * 1000,
      idleTimeoutMs: e.SESSION_IDLE_MINUTES * 60 * 1000,
      secureCookie: production || publicUrl.startsWith("https://"),
    },
    tokens: {
      key: decodeKey(e.TOKEN_ENCRYPTION_KEY ?? generated!.tokenKey)!,
      keyVersion: e.TOKEN_ENCRYPTION_KEY_VERSION,
      previousKeys: parsePreviousKeys(e.TOKEN_ENCRYPTION_PREVIOUS_KEYS),
      refreshMarginMs: e.TOKEN_REFRESH_MARGIN_MINUTES * 60 * 1000,
    },
    platforms: {
      mode: platformMode,
      allowSandboxInProduction: e.ALLOW_SANDBOX_IN_PRODUCTION,
      credentials: platformCredentials as Record<keyof typeof platforms, PlatformCredentials | undefined>,
      disabled,
      urls: platformMode === "sandbox" ? sandboxUrls(sandboxUrl, versions) : liveUrls(versions),
      versions,
      timeoutMs: e.PLATFORM_HTTP_TIMEOUT_MS,
      sandbox: { url: sandboxUrl, port: e.SANDBOX_PORT },
      linkedinPages: e.LINKEDIN_PAGES,
    },
    auth: {
      requirePhoneVerification: e.REQUIRE_PHONE_VERIFICATION,
      phoneVerificationMaxAgeMs: e.PHONE_VERIFICATION_MAX_AGE_MINUTES * 60 * 1000,
      signupsPerIpPerHour: e.SIGNUPS_PER_IP_PER_HOUR,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, outboxDir: join(dataDir, "outbox") },
    sms: {
      twilio:
        e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM
          ? { accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, from: e.TWILIO_FROM }
          : undefined,
    },
    plans: {
      starter: e.PLAN_STARTER_POSTS,
      growth: e.PLAN_GROWTH_POSTS,
      professional: e.PLAN_PROFESSIONAL_POSTS,
    },
    cycle: { days: e.CYCLE_DAYS, notifyCron: e.CYCLE_NOTIFY_CRON, notifyTimezone: e.CYCLE_NOTIFY_TZ },
    sse: { pingMs: e.SSE_PING_SECONDS * 1000 },
    jobs: {
      connectionCheckMinutes: e.CONNECTION_CHECK_INTERVAL_MINUTES,
      runnerSeconds: e.RUNNER_INTERVAL_SECONDS,
      scheduleOverrides: e.JOB_SCHEDULES ? parseJobSchedules(e.JOB_SCHEDULES)! : {},
      analyticsMinutes: e.ANALYTICS_INTERVAL_MINUTES,
    },
    media: {
      maxBytes: { image: e.MEDIA_MAX_IMAGE_MB * 1024 * 1024, video: e.MEDIA_MAX_VIDEO_MB * 1024 * 1024 },
      deadlineMs: e.MEDIA_FETCH_TIMEOUT_SECONDS * 1000,
      allow: [
        ...(e.MEDIA_FETCH_ALLOW ?? "").split(",").map((x) => x.trim()).filter(Boolean),
        // The sandbox's sample media, only in sandbox mode: an explicit entry, not a hole.
        ...(platformMode === "sandbox" ? [`${sandboxUrl}/_media/`] : []),
      ],
    },
    opsEmail: e.OPS_EMAIL,
    publishing: {
      batchSize: e.RUNNER_BATCH_SIZE,
      leaseMs: e.RUNNER_LEASE_SECONDS * 1000,
      perPlatform: e.RUNNER_CONCURRENCY_PER_PLATFORM,
      perConnection: e.RUNNER_CONCURRENCY_PER_CONNECTION,
      shutdownGraceMs: e.RUNNER_SHUTDOWN_GRACE_MS,
      maxAttempts: e.PUBLISH_MAX_ATTEMPTS,
      backoffBaseMs: e.PUBLISH_BACKOFF_BASE_MS,
      backoffMaxMs: e.PUBLISH_BACKOFF_MAX_MS,
      reconcileDelayMs: e.PUBLISH_RECONCILE_DELAY_MS,
      // After a request's deadline, how long it may still land on the platform before we look for it.
      reconcileSettleMs: e.PUBLISH_RECONCILE_DELAY_MS - e.PLATFORM_HTTP_TIMEOUT_MS,
      reconcileSecondLookMs: e.PUBLISH_RECONCILE_SECOND_LOOK_MS,
      breakerThreshold: e.BREAKER_FAILURE_THRESHOLD,
      breakerCooldownMs: e.BREAKER_COOLDOWN_SECONDS * 1000,
    },
    http: {
      headersTimeoutMs: Math.min(e.HTTP_HEADERS_TIMEOUT_MS, e.HTTP_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    },
    billing: billingConfig(e, platformMode, sandboxUrl),
    content: {
      timezone: e.CONTENT_TIMEZONE,
      postTimes: e.CONTENT_POST_TIMES.split(",").map((t) => t.trim()),
      // Without a key the built-in generator writes the posts; in sandbox mode the model defaults to the sandbox's.
      llm: e.LLM_API_KEY
        ? {
            apiKey: e.LLM_API_KEY,
            baseUrl: (e.LLM_BASE_URL ?? (platformMode === "sandbox" ? `${sandboxUrl}/llm/v1` : "https://api.openai.com/v1")).replace(/\/$/, ""),
            model: e.LLM_MODEL,
            timeoutMs: e.LLM_TIMEOUT_MS,
            maxAttempts: e.LLM_MAX_ATTEMPTS,
          }
        : undefined,
    },
  };
}

/** The sandbox's Stripe test key and webhook secret: only ever used against the sandbox. */
export const SANDBOX_STRIPE = { secretKey: "sk_test_sandbox", webhookSecret: "whsec_sandbox_agencyiq" } as const;
/** The React client's literal price ids (CLIENT.md §2), the sandbox's defaults so the shipped client works. */
export const SANDBOX_PRICES = { starter: "price_1234567890starter", growth: "price_1234567890growth", professional: "price_1234567890professional" } as const;

/**
 * `stripe`: real Stripe (STRIPE_SECRET_KEY set). `sandbox`: the platform sandbox's imitation
 * (no key, sandbox mounted). `disabled`: no key and no sandbox (live platforms without Stripe).
 */
function billingConfig(e: z.infer<typeof envSchema>, platformMode: "sandbox" | "live", sandboxUrl: string) {
  const mode = e.STRIPE_SECRET_KEY ? "stripe" : platformMode === "sandbox" ? "sandbox" : "disabled";
  const sandbox = mode !== "stripe";
  const prices = {
    starter: e.STRIPE_PRICE_STARTER ?? (sandbox ? SANDBOX_PRICES.starter : undefined),
    growth: e.STRIPE_PRICE_GROWTH ?? (sandbox ? SANDBOX_PRICES.growth : undefined),
    professional: e.STRIPE_PRICE_PROFESSIONAL ?? (sandbox ? SANDBOX_PRICES.professional : undefined),
  };
  return {
    mode: mode as "stripe" | "sandbox" | "disabled",
    secretKey: e.STRIPE_SECRET_KEY ?? SANDBOX_STRIPE.secretKey,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? (sandbox ? SANDBOX_STRIPE.webhookSecret : undefined),
    prices,
    /** Where the sandbox serves Stripe's API (its /v1/… paths) in sandbox mode. */
    sandboxApiUrl: `${sandboxUrl}/stripe`,
  };
}

/** Parses the environment; throws ConfigError naming every variable that is wrong or missing. */
export function loadConfig(env: Env = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return buildConfig(parsed.data);
}

// A browser on http://127.0.0.1:5000 sends that Origin even when PUBLIC_URL says
// localhost (the default): in development both spellings are ours. Production
// accepts exactly PUBLIC_URL.
const LOOPBACK = ["localhost", "127.0.0.1"];
function allowedOrigins(url: URL, production: boolean): string[] {
  if (production || !LOOPBACK.includes(url.hostname)) return [url.origin];
  return LOOPBACK.map((host) => {
    const other = new URL(url.origin);
    other.hostname = host;
    return other.origin;
  });
}

/** Every variable this file reads (tests/ops/env-example.test.ts keeps .env.example complete). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);
