// The sandbox's memory: registered apps, codes, tokens, published posts and
// the faults tests ask for. Never in the product's tables; gone on restart.
import { createHash, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Platform } from "../../../shared/schema.ts";
import type { Clock } from "../../deps.ts";
import { SANDBOX_CREDENTIALS } from "../endpoints.ts";
import { DEFAULT_SETTINGS, type Settings } from "./settings.ts";

export { DEFAULT_SETTINGS, type Settings } from "./settings.ts";
import type { Container, Upload, XMedia } from "./uploads.ts";

export type { Container, Upload, XMedia } from "./uploads.ts";

export type Family = "meta" | "linkedin" | "x" | "google";
export const FAMILY_OF: Record<Platform, Family> = { facebook: "meta", instagram: "meta", linkedin: "linkedin", x: "x", youtube: "google" };

export interface App {
  family: Family;
  clientId: string;
  clientSecret: string;
  name: string;
  redirectUris: string[];
}

export interface Code {
  family: Family;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  user: string;
  expiresAt: number;
  challenge?: string;
  challengeMethod?: string;
  offline: boolean;
  used: boolean;
}

export interface Token {
  value: string;
  family: Family;
  kind: "user" | "long_user" | "page" | "access";
  user: string;
  clientId: string;
  scopes: string[];
  expiresAt: number | null;
  revoked: boolean;
  pageId?: string;
  /** Google: access tokens die with the refresh token that minted them. */
  refresh?: string;
}

export interface Refresh {
  value: string;
  family: Family;
  user: string;
  clientId: string;
  scopes: string[];
  expiresAt: number | null;
  dead: boolean;
}

export interface Published {
  platform: Platform;
  id: string;
  user: string;
  /** Page id, IG user id, person URN, X user id, channel id. */
  account: string;
  text: string;
  /** LinkedIn: what readers see after little-text parsing (cut at an unescaped reserved character). */
  rendered?: string;
  title?: string;
  mediaUrl?: string;
  /** X and LinkedIn: the uploaded media the post names (X media ids, LinkedIn image/video URNs). */
  mediaIds?: string[];
  /** Instagram: CAROUSEL_ALBUM for a carousel (IMAGE otherwise), and the carousel's media in order. */
  mediaType?: string;
  children?: string[];
  createdAt: number;
}

export interface Fault {
  /** An endpoint name ("x.tweets.create") or a prefix ending in "*" ("x.*"). */
  endpoint: string;
  remaining: number;
  /**
   * respond: answer status/body without doing anything; hang: do it, never answer; drop: do it, close the
   * connection; late: hold the request `holdMs` (or until released through the control API), then do it
   * and answer — by then the client has usually given up, as a real platform may still carry out a
   * request whose caller timed out.
   */
  mode: "respond" | "hang" | "drop" | "late";
  /** late: how long to hold; null = until POST /_control/release. */
  holdMs: number | null;
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface PageSpec {
  id: string;
  name: string;
  instagram?: { id: string; username: string };
  /** The user's role on this Page comes through Business Manager: publishing needs business_management (Instagram also ads_*). */
  businessManaged?: boolean;
}

export interface Metrics {
  reach: number;
  impressions: number;
  engagement: number;
}

// Identities are looked up on nearly every call: hash each seed once.
const derived = new Map<string, string>();
const once = (key: string, make: () => string) => derived.get(key) ?? (derived.set(key, make()), derived.get(key)!);
const digits = (seed: string, n: number) =>
  once(`d${n}:${seed}`, () => {
    const h = createHash("sha256").update(seed).digest();
    let out = "";
    for (let i = 0; out.length < n; i++) out += String(h[i % h.length]! % 10);
    return out.slice(0, n);
  });
const b64 = (seed: string, n: number) => once(`b${n}:${seed}`, () => createHash("sha256").update(seed).digest("base64url").slice(0, n));

/** Stable platform identities for a sandbox user name. */
export const ids = {
  facebookUser: (u: string) => `100${digits(`fb:${u}`, 12)}`,
  page: (u: string) => `1${digits(`page:${u}`, 14)}`,
  instagram: (u: string) => `1784${digits(`ig:${u}`, 13)}`,
  linkedinSub: (u: string) => b64(`li:${u}`, 10),
  xUser: (u: string) => `1${digits(`x:${u}`, 18)}`,
  channel: (u: string) => `UC${b64(`yt:${u}`, 22)}`,
};

export class SandboxState {
  settings: Settings = structuredClone(DEFAULT_SETTINGS);
  apps: App[] = [];
  codes = new Map<string, Code>();
  tokens = new Map<string, Token>();
  refreshTokens = new Map<string, Refresh>();
  /** Everything published, in order (the control API lists it). Add through publish(). */
  published: Published[] = [];
  /** The same posts by platform and account, and by id: publishing and listing read one account, never all. */
  private byAccount = new Map<string, Published[]>();
  private byId = new Map<string, Published>();
  faults: Fault[] = [];
  latency = new Map<string, number>();
  rateLimits = new Map<string, number>();
  analytics = new Map<string, Metrics>();
  pages = new Map<string, PageSpec[]>();
  igContainers = new Map<string, Container>();
  /** Meta: permissions each sandbox user declined; asked again only with auth_type=rerequest. */
  metaDeclined = new Map<string, Set<string>>();
  /** LinkedIn Pages each sandbox member administers. */
  linkedinPages = new Map<string, Array<{ id: string; name: string }>>();
  /** X media uploads by id. */
  xMedia = new Map<string, XMedia>();
  /** LinkedIn Images/Videos API uploads by URN. */
  linkedinMedia = new Map<string, { owner: string; kind: "image" | "video"; size?: number; received: number; parts?: number; status: "WAITING_UPLOAD" | "AVAILABLE" }>();
  uploads = new Map<string, Upload>();
  /** Every call by endpoint name, to count what the product did. */
  calls: Array<{ endpoint: string; at: number }> = [];
  held = new Set<ServerResponse>();
  /** late requests waiting to be carried out: each resolves when released. */
  late = new Set<() => void>();
  /** Calls not carried out because their caller had given up before they were read (settings.carryOutOnArrival). */
  abandoned = 0;
  offsetMs = 0;
  private seq = 1000;

  constructor(
    readonly clock: Clock,
    /** The product's PUBLIC_URL; settable (PUT /_control/app) so a test can start the sandbox before the server it serves. */
    public appUrl: string,
  ) {
    this.reset();
  }

  /** Registers the apps' redirect URIs for another product URL, keeping everything else. */
  setAppUrl(appUrl: string): void {
    this.appUrl = appUrl;
    const current = this.apps;
    this.registerApps();
    // Secrets rotated through the control API stay rotated.
    for (const app of this.apps) app.clientSecret = current.find((a) => a.family === app.family)?.clientSecret ?? app.clientSecret;
  }

  publish(post: Published): void {
    this.published.push(post);
    const key = `${post.platform}:${post.account}`;
    const list = this.byAccount.get(key);
    if (list) list.push(post);
    else this.byAccount.set(key, [post]);
    this.byId.set(post.id, post);
  }

  /** One account's posts on a platform, oldest first. */
  postsOf(platform: Platform, account: string): readonly Published[] {
    return this.byAccount.get(`${platform}:${account}`) ?? [];
  }

  postById(id: string): Published | undefined {
    return this.byId.get(id);
  }

  reset(): void {
    this.settings = structuredClone(DEFAULT_SETTINGS);
    for (const m of [this.codes, this.tokens, this.refreshTokens, this.latency, this.rateLimits, this.analytics, this.pages, this.igContainers, this.uploads, this.metaDeclined, this.xMedia, this.linkedinMedia, this.linkedinPages]) m.clear();
    this.published = [];
    this.byAccount.clear();
    this.byId.clear();
    this.faults = [];
    this.calls = [];
    this.abandoned = 0;
    this.offsetMs = 0;
    this.registerApps();
  }

  private registerApps(): void {
    const name = "AgencyIQ (sandbox)";
    const uris = (...p: Platform[]) => p.map((x) => `${this.appUrl.replace(/\/$/, "")}/auth/${x}/callback`);
    this.apps = [
      { family: "meta", ...SANDBOX_CREDENTIALS.facebook, name, redirectUris: uris("facebook", "instagram") },
      { family: "linkedin", ...SANDBOX_CREDENTIALS.linkedin, name, redirectUris: uris("linkedin") },
      { family: "x", ...SANDBOX_CREDENTIALS.x, name, redirectUris: uris("x") },
      { family: "google", ...SANDBOX_CREDENTIALS.youtube, name, redirectUris: uris("youtube") },
    ];
  }

  now(): number {
    return this.clock.now().getTime() + this.offsetMs;
  }

  nextId(): string {
    this.seq += 1;
    return `${this.seq}${digits(String(this.seq), 6)}`;
  }

  app(family: Family, clientId: string | undefined): App | undefined {
    return this.apps.find((a) => a.family === family && a.clientId === clientId);
  }

  secret(prefix: string): string {
    return `${prefix}${randomBytes(24).toString("base64url")}`;
  }

  issueToken(t: Omit<Token, "value" | "revoked">, prefix: string): Token {
    const token: Token = { ...t, value: this.secret(prefix), revoked: false };
    this.tokens.set(token.value, token);
    return token;
  }

  issueRefresh(r: Omit<Refresh, "value" | "dead">, prefix: string): Refresh {
    const refresh: Refresh = { ...r, value: this.secret(prefix), dead: false };
    this.refreshTokens.set(refresh.value, refresh);
    return refresh;
  }

  /** A token's state: ok, or why it fails. */
  tokenState(family: Family, value: string | undefined): { token?: Token; problem?: "missing" | "invalid" | "expired" | "revoked" } {
    if (!value) return { problem: "missing" };
    const t = this.tokens.get(value);
    if (!t || t.family !== family) return { problem: "invalid" };
    if (t.revoked || (t.refresh && this.refreshTokens.get(t.refresh)?.dead)) return { token: t, problem: "revoked" };
    if (t.expiresAt !== null && t.expiresAt <= this.now()) return { token: t, problem: "expired" };
    return { token: t };
  }

  pagesOf(user: string): PageSpec[] {
    return (
      this.pages.get(user) ?? [
        { id: ids.page(user), name: `${user} Page`, instagram: { id: ids.instagram(user), username: `${user.replace(/[^a-z0-9_.]/gi, "_")}_ig` } },
      ]
    );
  }

  takeFault(endpoint: string): Fault | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && matches(x.endpoint, endpoint));
    if (f) f.remaining -= 1;
    return f;
  }

  latencyFor(endpoint: string): number {
    let ms = 0;
    for (const [pattern, v] of this.latency) if (matches(pattern, endpoint)) ms = Math.max(ms, v);
    return ms;
  }

  /** IN_PROGRESS, FINISHED, PUBLISHED or EXPIRED (24 hours by the sandbox clock). */
  containerStatus(c: Container): "IN_PROGRESS" | "FINISHED" | "PUBLISHED" | "EXPIRED" {
    if (c.published) return "PUBLISHED";
    if (this.now() - c.createdAt > 86_400_000) return "EXPIRED";
    const ms = c.children ? this.settings.igCarouselProcessingMs : c.video ? this.settings.igVideoProcessingMs : this.settings.igImageProcessingMs;
    return this.now() - c.createdAt >= ms || Date.now() - c.createdReal >= ms ? "FINISHED" : "IN_PROGRESS";
  }

  rateLimitedUntil(platform: Platform, user: string): number | undefined {
    const until = this.rateLimits.get(`${platform}:${user}`);
    return until !== undefined && until > this.now() ? until : undefined;
  }

  revokeUser(family: Family, user: string): number {
    let n = 0;
    for (const t of this.tokens.values()) if (t.family === family && t.user === user && !t.revoked) ((t.revoked = true), n++);
    for (const r of this.refreshTokens.values()) if (r.family === family && r.user === user && !r.dead) ((r.dead = true), n++);
    return n;
  }

  /** Carries out every late request still held; the number released. */
  releaseLate(): number {
    const n = this.late.size;
    for (const go of [...this.late]) go();
    this.late.clear();
    return n;
  }

  /** Unanswered ("hang") responses are closed and late requests dropped when the sandbox stops. */
  releaseHeld(): void {
    for (const res of this.held) res.destroy();
    this.held.clear();
    this.late.clear();
  }
}

function matches(pattern: string, endpoint: string): boolean {
  return pattern.endsWith("*") ? endpoint.startsWith(pattern.slice(0, -1)) : pattern === endpoint;
}

/** Newest first; among equal times, the later one first. */
export function newestFirst<T extends { createdAt: number }>(list: T[]): T[] {
  return [...list].reverse().sort((a, b) => b.createdAt - a.createdAt);
}
