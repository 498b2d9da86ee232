// The environment's variables: every one the server reads, with its default
// and its validation (zod). server/config.ts turns the parsed values into the
// nested Config the rest of the server uses.
import cron from "node-cron";
import { z } from "zod";

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

export const envSchema = z.object({
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

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export type Env = Record<string, string | undefined>;

/** "name=cron;name=cron" → a map, or null when a pair or an expression is malformed. */
export function parseJobSchedules(text: string): Record<string, string> | null {
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

export function decodeKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  const b = Buffer.from(text, "base64");
  return b.length === 32 ? b : null;
}
