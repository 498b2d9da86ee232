// Every table, enum and index of AgencyIQ. The server and the tests import this
// one file; migrations in database/migrations are generated from it
// (`npm run db:generate`), never written by hand.
import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  index,
  integer,
  json,
  jsonb,
  pgEnum,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => ts("created_at").notNull().defaultNow();
const updatedAt = () => ts("updated_at").notNull().defaultNow();

export const PLATFORMS = ["facebook", "instagram", "linkedin", "x", "youtube"] as const;
export type Platform = (typeof PLATFORMS)[number];
export const platformEnum = pgEnum("platform", PLATFORMS);

export const PLAN_NAMES = ["starter", "growth", "professional"] as const;
export type PlanName = (typeof PLAN_NAMES)[number];
export const planEnum = pgEnum("subscription_plan", PLAN_NAMES);

export const CONNECTION_STATUSES = ["connected", "refreshing", "needs_reconnect", "disconnected"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];
export const connectionStatusEnum = pgEnum("connection_status", CONNECTION_STATUSES);

// `unknown`: the platform call's outcome is not known (timeout, lost answer,
// expired lease) and must be reconciled before anything is re-sent.
// `paused`: the connection needs a reconnect; the post resumes after it.
export const POST_STATUSES = ["draft", "approved", "publishing", "unknown", "published", "failed", "paused"] as const;
export type PostStatus = (typeof POST_STATUSES)[number];
export const postStatusEnum = pgEnum("post_status", POST_STATUSES);

export const users = pgTable(
  "users",
  {
    id: serial("id").primaryKey(),
    // The phone number the account was created with (E.164): the blueprint's user UID.
    uid: text("uid").notNull(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    // Null when a verified claim of the number took it from this account (it never proved it held it).
    phone: text("phone"),
    // Null: the number was never proven by a code (signup without verification; see README "The React client").
    phoneVerifiedAt: ts("phone_verified_at"),
    subscriptionPlan: planEnum("subscription_plan"),
    subscriptionStart: ts("subscription_start"),
    subscriptionActive: boolean("subscription_active").notNull().default(false),
    subscriptionSource: text("subscription_source"),
    remainingPosts: integer("remaining_posts").notNull().default(0),
    totalPosts: integer("total_posts").notNull().default(0),
    hasBrandSetup: boolean("has_brand_setup").notNull().default(false),
    stripeCustomerId: text("stripe_customer_id"),
    stripeSubscriptionId: text("stripe_subscription_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Not unique: after a phone change the old number may be signed up again by someone else.
    index("users_uid_idx").on(t.uid),
    uniqueIndex("users_email_key").on(t.email),
    uniqueIndex("users_phone_key").on(t.phone),
    index("users_subscription_start_idx").on(t.subscriptionStart).where(sql`${t.subscriptionActive}`),
  ],
);

// The layout connect-pg-simple expects (sid, sess, expire), under our table name.
export const sessions = pgTable(
  "sessions",
  {
    sid: varchar("sid").primaryKey(),
    sess: json("sess").notNull(),
    expire: timestamp("expire", { precision: 6, mode: "date" }).notNull(),
  },
  (t) => [index("sessions_expire_idx").on(t.expire)],
);

export const platformConnections = pgTable(
  "platform_connections",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    platform: platformEnum("platform").notNull(),
    platformUserId: text("platform_user_id").notNull(),
    platformUsername: text("platform_username"),
    // Ciphertext envelopes written and read only by the token vault.
    accessToken: text("access_token").notNull(),
    refreshToken: text("refresh_token"),
    tokenKeyVersion: integer("token_key_version").notNull(),
    expiresAt: ts("expires_at"),
    refreshTokenExpiresAt: ts("refresh_token_expires_at"),
    scopes: text("scopes").array().notNull().default(sql`'{}'::text[]`),
    // Platform-specific identity the adapter needs to publish (Page id, IG user id, person URN).
    metadata: jsonb("metadata").notNull().default(sql`'{}'::jsonb`),
    status: connectionStatusEnum("status").notNull().default("connected"),
    isActive: boolean("is_active").notNull().default(true),
    lastRefreshedAt: ts("last_refreshed_at"),
    lastValidatedAt: ts("last_validated_at"),
    nextCheckAt: ts("next_check_at"),
    failureCount: integer("failure_count").notNull().default(0),
    lastError: text("last_error"),
    connectedAt: ts("connected_at").notNull().defaultNow(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // At most one active connection per user and platform.
    uniqueIndex("platform_connections_active_key").on(t.userId, t.platform).where(sql`${t.isActive}`),
    // The connection check reads only what is due, through this index.
    index("platform_connections_next_check_idx").on(t.nextCheckAt).where(sql`${t.isActive}`),
  ],
);

export const posts = pgTable(
  "posts",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    platform: platformEnum("platform").notNull(),
    content: text("content").notNull(),
    mediaUrl: text("media_url"),
    mediaType: text("media_type"),
    // Several media (an Instagram carousel, X images): the whole list in order, media_url its first item; null for one or none.
    mediaUrls: text("media_urls").array(),
    status: postStatusEnum("status").notNull().default("draft"),
    scheduledFor: ts("scheduled_for"),
    approvedAt: ts("approved_at"),
    publishedAt: ts("published_at"),
    platformPostId: text("platform_post_id"),
    errorLog: text("error_log"),
    analytics: jsonb("analytics"),
    // (platforms) what the platform said beside the id (YouTube visibility, a notice for the user) and work
    // to reuse on a retry (Instagram's container id): { containerId?, visibility?, notice? }.
    platformState: jsonb("platform_state"),
    attemptCount: integer("attempt_count").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at"),
    // The runner's lease: set when a post is claimed, fences its completion.
    leaseId: text("lease_id"),
    leaseExpiresAt: ts("lease_expires_at"),
    // When the last platform call began: reconciliation lists the platform's posts since then.
    lastAttemptAt: ts("last_attempt_at"),
    // Reconciliation looks that found nothing since the last send: a re-send needs two (server/posts/reconcile.ts).
    reconcileLooks: integer("reconcile_looks").notNull().default(0),
    // May hold a quota reservation: false means it certainly does not; when true, quota_history decides.
    quotaReserved: boolean("quota_reserved").notNull().default(false),
    subscriptionCycle: ts("subscription_cycle"),
    edited: boolean("edited").notNull().default(false),
    editedAt: ts("edited_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    // Strategic content (issue 15): what the schedule page shows beside a generated draft.
    // generatedBy is null for posts a person wrote; regeneration replaces only generated, unedited drafts.
    generatedBy: text("generated_by"),
    strategicTheme: text("strategic_theme"),
    businessCanvasPhase: text("business_canvas_phase"),
    engagementOptimisation: text("engagement_optimisation"),
    localEvent: text("local_event"),
  },
  (t) => [
    index("posts_user_idx").on(t.userId, t.createdAt),
    // The runner's claim: approved posts by due time.
    index("posts_due_idx").on(t.nextAttemptAt).where(sql`${t.status} in ('approved', 'unknown')`),
    // One platform post belongs to one of our posts: two same-text posts
    // reconciling at once cannot both claim it (the loser re-reconciles).
    uniqueIndex("posts_platform_post_key").on(t.platform, t.platformPostId).where(sql`${t.platformPostId} is not null`),
    // Lease recovery: posts whose publisher may have died.
    index("posts_lease_idx").on(t.leaseExpiresAt).where(sql`${t.status} = 'publishing'`),
    // The runner's resume sweep: paused posts waiting for a reconnect.
    index("posts_paused_idx").on(t.userId, t.platform).where(sql`${t.status} = 'paused'`),
  ],
);

export const postAnalytics = pgTable(
  "post_analytics",
  {
    id: serial("id").primaryKey(),
    postId: integer("post_id").notNull().references(() => posts.id, { onDelete: "cascade" }),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    platform: platformEnum("platform").notNull(),
    reach: integer("reach").notNull().default(0),
    engagement: integer("engagement").notNull().default(0),
    impressions: integer("impressions").notNull().default(0),
    fetchedAt: ts("fetched_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("post_analytics_post_key").on(t.postId), index("post_analytics_user_idx").on(t.userId, t.createdAt)],
);

export const postSchedule = pgTable(
  "post_schedule",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    postId: integer("post_id").references(() => posts.id, { onDelete: "cascade" }),
    platform: platformEnum("platform").notNull(),
    scheduledFor: ts("scheduled_for").notNull(),
    cycleStart: ts("cycle_start"),
    status: text("status").notNull().default("scheduled"),
    createdAt: createdAt(),
  },
  (t) => [index("post_schedule_user_idx").on(t.userId, t.scheduledFor)],
);

export const postLedger = pgTable("post_ledger", {
  userId: integer("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  quota: integer("quota").notNull(),
  usedPosts: integer("used_posts").notNull().default(0),
  periodStart: ts("period_start").notNull(),
  updatedAt: updatedAt(),
});

export const subscriptionAnalytics = pgTable(
  "subscription_analytics",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    plan: planEnum("plan"),
    cycleStart: ts("cycle_start").notNull(),
    cycleEnd: ts("cycle_end").notNull(),
    quota: integer("quota").notNull().default(0),
    postsUsed: integer("posts_used").notNull().default(0),
    successfulPosts: integer("successful_posts").notNull().default(0),
    reach: integer("reach").notNull().default(0),
    engagement: integer("engagement").notNull().default(0),
    impressions: integer("impressions").notNull().default(0),
    createdAt: createdAt(),
  },
  // A cycle closes once, however many processes try.
  (t) => [uniqueIndex("subscription_analytics_cycle_key").on(t.userId, t.cycleStart)],
);

export const quotaHistory = pgTable(
  "quota_history",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    postId: integer("post_id"),
    previousTotal: integer("previous_total").notNull(),
    newTotal: integer("new_total").notNull(),
    previousRemaining: integer("previous_remaining").notNull(),
    newRemaining: integer("new_remaining").notNull(),
    reason: text("reason").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("quota_history_user_idx").on(t.userId, t.createdAt)],
);

// One row per email the product must send at most once (cycle notify per cycle,
// reconnect notice per failure, expiry warning per token); the unique key is the
// "at most once" across processes and timer ticks.
export const emailNotifications = pgTable(
  "email_notifications",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    sentAt: createdAt(),
  },
  (t) => [uniqueIndex("email_notifications_once_key").on(t.userId, t.kind, t.dedupeKey)],
);

export const verificationCodes = pgTable(
  "verification_codes",
  {
    id: serial("id").primaryKey(),
    phone: text("phone").notNull(),
    purpose: text("purpose").notNull().default("signup"),
    codeHash: text("code_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: ts("expires_at").notNull(),
    consumedAt: ts("consumed_at"),
    verifiedAt: ts("verified_at"),
    createdAt: createdAt(),
  },
  (t) => [index("verification_codes_phone_idx").on(t.phone, t.createdAt)],
);

// Hits counted for limits that must hold across processes (login, codes,
// redemption): one row per hit, counted over a sliding window.
export const rateLimitHits = pgTable(
  "rate_limit_hits",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    bucket: text("bucket").notNull(),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [index("rate_limit_hits_bucket_idx").on(t.bucket, t.at)],
);

export const giftCertificates = pgTable(
  "gift_certificates",
  {
    id: serial("id").primaryKey(),
    // SHA-256 of the code: the code itself is a bearer secret and is never stored.
    codeHash: text("code_hash").notNull(),
    codeHint: text("code_hint").notNull(),
    plan: planEnum("plan").notNull(),
    createdFor: text("created_for"),
    isUsed: boolean("is_used").notNull().default(false),
    redeemedBy: integer("redeemed_by").references(() => users.id, { onDelete: "set null" }),
    redeemedAt: ts("redeemed_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("gift_certificates_code_key").on(t.codeHash)],
);

export const giftCertificateActionLog = pgTable(
  "gift_certificate_action_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    // Null when the code matched no certificate: unknown codes are logged too.
    certificateId: integer("certificate_id").references(() => giftCertificates.id, { onDelete: "set null" }),
    codeHint: text("code_hint"),
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    action: text("action").notNull(),
    outcome: text("outcome").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: createdAt(),
  },
  (t) => [index("gift_certificate_action_log_cert_idx").on(t.certificateId)],
);

export const postLogs = pgTable(
  "post_logs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    postId: integer("post_id").notNull().references(() => posts.id, { onDelete: "cascade" }),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    platform: platformEnum("platform").notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status").notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    durationMs: integer("duration_ms"),
    createdAt: createdAt(),
  },
  (t) => [index("post_logs_post_idx").on(t.postId, t.createdAt)],
);

// OAuth `state` of flows in progress. Single use is a DELETE … RETURNING, so
// two callbacks racing with one state cannot both pass (a session blob could).
export const oauthStates = pgTable(
  "oauth_states",
  {
    // The `state` value sent to the platform (256 random bits).
    handle: text("handle").primaryKey(),
    // SHA-256 of the session id the flow started in: a state is only good in that session.
    sessionHash: text("session_hash").notNull(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    platform: platformEnum("platform").notNull(),
    // PKCE verifier (X, YouTube); lives at most as long as the state (10 minutes).
    codeVerifier: text("code_verifier"),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [index("oauth_states_expires_idx").on(t.expiresAt)],
);

// The per-platform circuit breaker, shared by every process.
export const platformHealth = pgTable("platform_health", {
  platform: platformEnum("platform").primaryKey(),
  state: text("state").notNull().default("closed"),
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  lastError: text("last_error"),
  openedAt: ts("opened_at"),
  retryAt: ts("retry_at"),
  updatedAt: updatedAt(),
  // (platforms) set while the platform refuses this app itself (credits, app secret, API version): paused for everyone.
  operatorCode: text("operator_code"),
});

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type PlatformConnection = typeof platformConnections.$inferSelect;
export type Post = typeof posts.$inferSelect;
export type NewPost = typeof posts.$inferInsert;
export type PostLedger = typeof postLedger.$inferSelect;
export type GiftCertificate = typeof giftCertificates.$inferSelect;
export type VerificationCode = typeof verificationCodes.$inferSelect;

// ---- Payments (server/billing) ----

// Every Stripe webhook event processed, by Stripe's event id: the insert is
// made in the transaction that applies the event, so a replay or a retry of
// an applied event finds its row and changes nothing.
export const stripeEvents = pgTable(
  "stripe_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    // Stripe's `created` of the event (seconds since the epoch, as a date).
    stripeCreatedAt: ts("stripe_created_at").notNull(),
    processedAt: ts("processed_at").notNull(),
  },
  (t) => [index("stripe_events_processed_idx").on(t.processedAt)],
);

// A Checkout Session whose plan was granted: the webhook and the success
// redirect may both apply a session, only the first insert grants.
export const stripeCheckouts = pgTable("stripe_checkouts", {
  sessionId: text("session_id").primaryKey(),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  plan: planEnum("plan").notNull(),
  subscriptionId: text("subscription_id"),
  appliedAt: ts("applied_at").notNull(),
});
// --- Brand purpose and content (issue 15) ------------------------------------------

// The brand purpose form, one row per user (POST /api/brand-purpose upserts the whole form).
export const brandPurposes = pgTable("brand_purposes", {
  userId: integer("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  brandName: text("brand_name").notNull(),
  productsServices: text("products_services").notNull(),
  corePurpose: text("core_purpose").notNull(),
  audience: text("audience").notNull(),
  jobToBeDone: text("job_to_be_done").notNull(),
  motivations: text("motivations").notNull(),
  painPoints: text("pain_points").notNull(),
  goals: jsonb("goals").notNull(),
  contactDetails: jsonb("contact_details").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

// The uploaded logo, kept apart from the form: the client uploads it before the first save,
// and its save cannot carry it (CLIENT.md §3). The file lives under DATA_DIR/uploads/logos/<user>/.
export const brandLogos = pgTable("brand_logos", {
  userId: integer("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  fileName: text("file_name").notNull(),
  mimeType: text("mime_type").notNull(),
  bytes: integer("bytes").notNull(),
  updatedAt: updatedAt(),
});

export type BrandPurpose = typeof brandPurposes.$inferSelect;
export type BrandLogo = typeof brandLogos.$inferSelect;
// ---- client (issue 13): password reset ----------------------------------
// A reset link's token, stored only as its SHA-256 (a 256-bit random bearer
// secret needs no slow hash). Single use: using it is one conditional UPDATE
// of used_at; it lives an hour.
export const passwordResetTokens = pgTable(
  "password_reset_tokens",
  {
    id: serial("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    expiresAt: ts("expires_at").notNull(),
    usedAt: ts("used_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("password_reset_tokens_hash_key").on(t.tokenHash), index("password_reset_tokens_user_idx").on(t.userId)],
);
// ---- end client -----------------------------------------------------------
