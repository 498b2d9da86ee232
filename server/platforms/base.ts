// What every adapter shares: its context, the OAuth options, the token
// endpoint call, and turning "expires in N seconds" into dates.
import type { Platform } from "../../shared/schema.ts";
import type { Clock } from "../deps.ts";
import type { MediaFetchConfig } from "../media/fetch.ts";
import type { ApiVersions, PlatformCredentials, PlatformUrls } from "./endpoints.ts";
import { PlatformError } from "./errors.ts";
import type { PlatformHttp } from "./http.ts";
import type { ContentProblem, OAuthOptions, OAuthTokens } from "./types.ts";

export interface AdapterContext {
  platform: Platform;
  urls: PlatformUrls;
  credentials?: PlatformCredentials;
  disabledReason?: string;
  clock: Clock;
  http: PlatformHttp;
  publicUrl: string;
  versions: ApiVersions;
  /** The guarded fetcher's limits, for media the adapter downloads itself. */
  media: MediaFetchConfig;
  /** Optional capabilities the operator switches on (LinkedIn Pages needs an approved LinkedIn product). */
  features?: { linkedinPages?: boolean };
}

export interface OAuthSpec {
  scope: string[];
  scopeSeparator: string;
  pkce: boolean;
  clientAuth: "body" | "basic";
  authorizationParams?: Record<string, string>;
  maxStateLength?: number;
}

export function credentialsOf(ctx: AdapterContext): { clientId: string; clientSecret: string } {
  if (!ctx.credentials) {
    throw new PlatformError(ctx.platform, "platform_disabled", "permanent", ctx.disabledReason ?? `${ctx.platform} is disabled`);
  }
  return ctx.credentials;
}

export function oauthOptions(ctx: AdapterContext, spec: OAuthSpec): OAuthOptions {
  const c = credentialsOf(ctx);
  return {
    authorizationURL: ctx.urls.authorize,
    tokenURL: ctx.urls.token,
    clientID: c.clientId,
    clientSecret: c.clientSecret,
    callbackURL: `${ctx.publicUrl}/auth/${ctx.platform}/callback`,
    scope: spec.scope,
    scopeSeparator: spec.scopeSeparator,
    pkce: spec.pkce,
    clientAuth: spec.clientAuth,
    authorizationParams: spec.authorizationParams ?? {},
    ...(spec.maxStateLength ? { maxStateLength: spec.maxStateLength } : {}),
  };
}

/** POSTs a form to the token endpoint with the client credentials where the platform wants them. */
export async function tokenCall(
  ctx: AdapterContext,
  spec: OAuthSpec,
  endpoint: string,
  form: Record<string, string | undefined>,
): Promise<OAuthTokens> {
  const c = credentialsOf(ctx);
  const reply =
    spec.clientAuth === "basic"
      ? await ctx.http.request(endpoint, ctx.urls.token, {
          form: { ...form, client_id: c.clientId },
          basic: { user: c.clientId, password: c.clientSecret },
        })
      : await ctx.http.request(endpoint, ctx.urls.token, {
          form: { ...form, client_id: c.clientId, client_secret: c.clientSecret },
        });
  return parseTokens(ctx.platform, reply.body);
}

export function exchangeCodeWith(ctx: AdapterContext, spec: OAuthSpec) {
  return (input: { code: string; codeVerifier?: string }) =>
    tokenCall(ctx, spec, "token", {
      grant_type: "authorization_code",
      code: input.code,
      redirect_uri: `${ctx.publicUrl}/auth/${ctx.platform}/callback`,
      code_verifier: input.codeVerifier,
    });
}

export function parseTokens(platform: Platform, body: any): OAuthTokens {
  if (!body || typeof body.access_token !== "string") {
    throw new PlatformError(platform, "bad_token_response", "transient", `${platform}: token response without access_token`);
  }
  const num = (v: unknown) => (v === undefined || v === null || v === "" ? undefined : Number(v));
  const scope = typeof body.scope === "string" ? body.scope.split(/[ ,]+/).filter(Boolean) : undefined;
  return {
    accessToken: body.access_token,
    ...(typeof body.refresh_token === "string" ? { refreshToken: body.refresh_token } : {}),
    ...(num(body.expires_in) !== undefined ? { expiresIn: num(body.expires_in) } : {}),
    ...(num(body.refresh_token_expires_in) !== undefined ? { refreshTokenExpiresIn: num(body.refresh_token_expires_in) } : {}),
    ...(scope ? { scope } : {}),
  };
}

/**
 * Builds OAuthTokens from a passport verify callback (accessToken, refreshToken, params).
 * `params` is the raw token response passport hands over.
 */
export function tokensFromPassport(
  platform: Platform,
  accessToken: string,
  refreshToken: string | undefined,
  params: Record<string, unknown>,
): OAuthTokens {
  const t = parseTokens(platform, { ...params, access_token: accessToken });
  return refreshToken ? { ...t, refreshToken } : t;
}

export function inSeconds(now: Date, seconds: number | undefined): Date | null {
  return seconds === undefined || !Number.isFinite(seconds) || seconds <= 0 ? null : new Date(now.getTime() + seconds * 1000);
}

/**
 * The media's format as far as we can tell before downloading it ("jpeg",
 * "png", "mp4"…): the MIME subtype, else the URL's extension; null when
 * neither says.
 */
export function mediaFormat(post: { mediaUrl?: string | null; mediaType?: string | null }): string | null {
  if (!post.mediaUrl) return null;
  const sub = /^(?:image|video)\/([a-z0-9.+-]+)/i.exec(post.mediaType ?? "")?.[1]?.toLowerCase();
  let ext: string | undefined;
  try {
    ext = /\.([a-z0-9]{2,5})$/i.exec(new URL(post.mediaUrl).pathname)?.[1]?.toLowerCase();
  } catch {
    ext = undefined;
  }
  const f = sub ?? ext ?? null;
  return f === "jpg" ? "jpeg" : f === "quicktime" ? "mov" : f;
}

/** A named problem when the media's known format is not one the platform takes. */
export function formatProblem(
  platform: string,
  post: { mediaUrl?: string | null; mediaType?: string | null },
  accepted: Record<"image" | "video", string[]>,
): { code: string; field: "media"; message: string } | null {
  const kind = mediaKind(post);
  const format = mediaFormat(post);
  // An empty list: the adapter refuses the kind itself, with its own message.
  if (!kind || !format || !accepted[kind].length || accepted[kind].includes(format)) return null;
  const name = platform.charAt(0).toUpperCase() + platform.slice(1);
  return { code: `${platform}_${kind}_format`, field: "media", message: `${name} takes ${kind}s as ${accepted[kind].join(", ").toUpperCase()}, not ${format.toUpperCase()}` };
}

export function mediaKind(post: { mediaUrl?: string | null; mediaType?: string | null }): "image" | "video" | null {
  if (!post.mediaUrl) return null;
  const t = (post.mediaType ?? "").toLowerCase();
  if (t.startsWith("video")) return "video";
  if (t.startsWith("image")) return "image";
  if (/\.(mp4|mov|m4v|webm|avi|mkv)(\?|$)/i.test(post.mediaUrl)) return "video";
  return "image";
}

/** A post's media in order: its list when it has several, else its one URL, else none. */
export function mediaListOf(post: { mediaUrl?: string | null; mediaUrls?: readonly string[] | null }): string[] {
  if (post.mediaUrls?.length) return [...post.mediaUrls];
  return post.mediaUrl ? [post.mediaUrl] : [];
}

/** Each item of a media list through the format check (typed by its URL), its position in the message. */
export function listFormatProblems(platform: string, items: readonly string[], accepted: Record<"image" | "video", string[]>): ContentProblem[] {
  return items.flatMap((url, i) => {
    const p = formatProblem(platform, { mediaUrl: url }, accepted);
    return p ? [{ ...p, message: `Item ${i + 1}: ${p.message}` }] : [];
  });
}

/**
 * Adapters that send one media per post refuse a list by name: sending its
 * first item alone would publish something other than what the user made.
 */
export function singleMediaProblem(platform: string, displayName: string, post: { mediaUrl?: string | null; mediaUrls?: readonly string[] | null }): ContentProblem | null {
  const n = mediaListOf(post).length;
  if (n <= 1) return null;
  return { code: `${platform}_single_media_only`, field: "media", message: `${displayName} posts carry one image or video here, this one has ${n} (Instagram takes several as a carousel, X up to 4 images)`, limit: 1, actual: n };
}
