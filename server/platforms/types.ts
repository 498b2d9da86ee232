// The one interface every platform implements, and the values that cross it.
// Adapters never touch the database: callers hand them decrypted tokens and
// store what comes back (the token vault encrypts it).
import type { Platform } from "../../shared/schema.ts";

export type { Platform };

/** Everything a passport OAuth2 strategy (or our own exchange) needs. */
export interface OAuthOptions {
  authorizationURL: string;
  tokenURL: string;
  clientID: string;
  /** A secret: pass to the strategy, never log or return it. */
  clientSecret: string;
  /** `${PUBLIC_URL}/auth/<platform>/callback`, the only redirect URI the platform accepts. */
  callbackURL: string;
  scope: string[];
  scopeSeparator: string;
  /** PKCE S256: mandatory for X, supported by Google. */
  pkce: boolean;
  /** How the token endpoint wants the client credentials. */
  clientAuth: "body" | "basic";
  /** Extra authorize parameters (Google: access_type=offline, prompt=consent). */
  authorizationParams: Record<string, string>;
  /** X: state ≤ 500 characters. */
  maxStateLength?: number;
}

/** An OAuth token response, normalised. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds, as the platform said. */
  expiresIn?: number;
  refreshTokenExpiresIn?: number;
  /** Granted scopes as the platform listed them (may be absent). */
  scope?: string[];
}

/** A connection ready to store (tokens in clear: the vault encrypts them). */
export interface NewConnection {
  platformUserId: string;
  platformUsername: string | null;
  accessToken: string;
  refreshToken: string | null;
  /** null: the token does not expire (Facebook Page tokens). */
  expiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  scopes: string[];
  /** What publishing needs: pageId, igUserId, personUrn, channelId, uploadsPlaylistId… */
  metadata: Record<string, unknown>;
}

export interface ShapeContext {
  /** Facebook/Instagram with several Pages: the Page the user chose. */
  pageId?: string;
}

/**
 * Facebook/Instagram users may manage several Pages: then the caller shows the
 * choices and stores the chosen one (each choice is already a full connection).
 */
export type ShapeResult =
  | { kind: "connection"; connection: NewConnection }
  | { kind: "choose"; choices: Array<{ id: string; name: string; connection: NewConnection }> };

/** The stored connection, decrypted, as the adapter needs it. */
export interface ConnectionCredentials {
  platformUserId: string;
  accessToken: string;
  refreshToken?: string | null;
  expiresAt?: Date | null;
  refreshTokenExpiresAt?: Date | null;
  metadata: Record<string, unknown>;
}

/** What to store after a refresh: always a complete set (Google's kept refresh token included). */
export interface RefreshedTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  scopes?: string[];
}

export interface ValidationResult {
  /** When the access token expires, if the platform says. */
  expiresAt?: Date | null;
  scopes?: string[];
}

export interface PostInput {
  content: string;
  mediaUrl?: string | null;
  /**
   * Several media in order (an Instagram carousel, X images), mediaUrl being the first;
   * absent or null for one media or none. Read it through mediaListOf().
   */
  mediaUrls?: string[] | null;
  /** "image" | "video" or a MIME type such as "image/jpeg", "video/mp4" (of mediaUrl alone). */
  mediaType?: string | null;
  /** YouTube: video title; the first line of content when absent. */
  title?: string | null;
  /** Facebook: optional link attachment. */
  link?: string | null;
  /**
   * What the platform left on this post between attempts (Instagram's
   * container id, YouTube's visibility): read it to reuse work on a retry,
   * write it as soon as it exists. Absent outside the publishing runner.
   */
  state?: PlatformStateStore;
}

export interface PlatformStateStore {
  get(): Promise<Record<string, unknown>>;
  /** Merged into what is stored; a null value removes the key. */
  set(patch: Record<string, unknown>): Promise<void>;
}

export interface PublishResult {
  platformPostId: string;
  url?: string;
  /** Who can see it, where the platform may decide otherwise than asked (YouTube: "private"). */
  visibility?: string;
  /** Something the user must know about the published post (shown with it). */
  notice?: string;
}

export interface RecentPost {
  id: string;
  /** The text as the user wrote it (LinkedIn escaping removed). */
  text: string;
  createdAt: Date;
  title?: string;
}

export interface PostMetrics {
  reach: number;
  impressions: number;
  engagement: number;
}

/** A named content rule that a post breaks. */
export interface ContentProblem {
  code: string;
  field: "content" | "media" | "title";
  message: string;
  limit?: number;
  actual?: number;
}

/**
 * What to do after an error:
 * - auth_revoked: the token is dead → mark the connection needs_reconnect, pause posts;
 * - rate_limited: wait until retryAt;
 * - transient: retry with back-off;
 * - permanent: give up with the message (duplicate: the platform already has this text);
 * - outcome_unknown: the request may have been carried out (timeout, lost answer) →
 *   never re-send blindly; reconcile with listRecentPosts first.
 */
export type ErrorKind = "auth_revoked" | "rate_limited" | "transient" | "permanent" | "outcome_unknown";

export interface ErrorClassification {
  kind: ErrorKind;
  /** Short machine code: "token_expired", "rate_limited", "duplicate", "http_500", "timeout"… */
  code: string;
  /** Safe to show and log: never contains a token. */
  message: string;
  retryAt?: Date;
  /**
   * The platform refused the post as a duplicate of one it already has: proof
   * that the text is live (an earlier attempt whose answer we lost, most often).
   */
  duplicate?: boolean;
  /** The live post's id when the duplicate answer names it (LinkedIn's "duplicate of urn:li:share:…"). */
  duplicateOf?: string;
  /** outcome_unknown: how long the abandoned request could still have run (see OutcomeUnknownError). */
  untilDeadlineMs?: number;
  status?: number;
  /**
   * The failure says nothing about the platform (the user's media, content,
   * token or account): it must never move the platform's circuit breaker.
   */
  notPlatform?: boolean;
  /**
   * The platform refuses every call of this app, whoever's (credits depleted,
   * app secret wrong, API version retired): an operator problem. The platform
   * is paused for everyone; no post fails, no user is told to reconnect.
   */
  operator?: boolean;
}

export interface PlatformAdapter {
  readonly platform: Platform;
  readonly displayName: string;
  /** Live mode without credentials: false, and disabledReason says which variables to set. */
  readonly enabled: boolean;
  readonly disabledReason?: string;
  /** Throws PlatformError(code "platform_disabled") when the platform is disabled. */
  oauth(): OAuthOptions;
  /** The authorization-code exchange (what passport does), for callers that do it themselves. */
  exchangeCode(input: { code: string; codeVerifier?: string }): Promise<OAuthTokens>;
  /** Turns an OAuth result into a connection: Page token, IG business account, person URN… */
  shapeConnection(tokens: OAuthTokens, ctx?: ShapeContext): Promise<ShapeResult>;
  /** New tokens; Facebook/Instagram throw PlatformError "reconnect_required" (kind auth_revoked). */
  refresh(conn: ConnectionCredentials): Promise<RefreshedTokens>;
  /** A cheap call proving the token works; throws (classify it) when it does not. */
  validate(conn: ConnectionCredentials): Promise<ValidationResult>;
  publish(conn: ConnectionCredentials, post: PostInput): Promise<PublishResult>;
  /** The account's posts since a time, newest first: reconciliation matches content and time. */
  listRecentPosts(conn: ConnectionCredentials, since: Date): Promise<RecentPost[]>;
  /**
   * False when the platform does not let us list this account's posts
   * (LinkedIn members: the author finder needs a partner-only permission).
   * Reconciliation then re-sends, and the platform's duplicate answer proves a
   * post that did land. Absent means true.
   */
  canListPosts?(conn: ConnectionCredentials): boolean;
  revoke?(conn: ConnectionCredentials): Promise<void>;
  fetchAnalytics?(conn: ConnectionCredentials, platformPostId: string): Promise<PostMetrics>;
  /** Empty when the post can go out; otherwise every rule it breaks. */
  checkContent(post: PostInput): ContentProblem[];
  classifyError(err: unknown): ErrorClassification;
}
