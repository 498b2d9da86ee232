// The environment, parsed once into a typed, nested Config. Nothing else in the
// server reads process.env: tests build a Config from their own variables.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { z } from "zod";
import { decodeKey, envSchema, parseJobSchedules, reconcileTimingProblem, type Env } from "./config-env.ts";
import { CREDENTIAL_VARIABLES, liveUrls, SANDBOX_CREDENTIALS, sandboxUrls } from "./platforms/endpoints.ts";

export interface PlatformCredentials {
  clientId: string;
  clientSecret: string;
}

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {}

export { decodeKey, MIN_RECONCILE_DELAY_PER_TIMEOUT, reconcileTimingProblem } from "./config-env.ts";


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
