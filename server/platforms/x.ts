// X (Twitter) API v2 with OAuth 2.0: PKCE, confidential client (HTTP Basic),
// refresh tokens that rotate on every use, weighted 280-character posts.
import { mediaBytes } from "../media/read.ts";
import { credentialsOf, exchangeCodeWith, formatProblem, inSeconds, mediaKind, oauthOptions, listFormatProblems, mediaFormat, mediaListOf, tokenCall, type AdapterContext, type OAuthSpec } from "./base.ts";
import { classifyCommon, ContentRejectedError, PlatformError, PlatformHttpError } from "./errors.ts";
import type { ReplyHeaders } from "./http.ts";
import { X_MAX_WEIGHTED, xWeightedLength } from "./text.ts";
import type { ContentProblem, ErrorClassification, PlatformAdapter, PostInput } from "./types.ts";

const SPEC: OAuthSpec = {
  // Without offline.access there is no refresh token; media.write is what the media upload needs.
  scope: ["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"],
  scopeSeparator: " ",
  pkce: true,
  clientAuth: "basic",
  maxStateLength: 500,
};

const LIMITS = ["x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"];
const X_MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/**
 * When a 429 ends: the latest reset among the windows that are used up (the
 * 15-minute one and the 24-hour caps per user and per app); when none says
 * it is used up, the latest reset given.
 */
export function xLimitReset(headers: ReplyHeaders): Date | undefined {
  const windows = LIMITS.map((p) => ({ reset: Number(headers.get(`${p}-reset`)), remaining: headers.get(`${p}-remaining`) })).filter(
    (w) => Number.isFinite(w.reset) && w.reset > 0,
  );
  const spent = windows.filter((w) => w.remaining === "0");
  const pick = spent.length ? spent : windows;
  return pick.length ? new Date(Math.max(...pick.map((w) => w.reset)) * 1000) : undefined;
}

const X_FORMATS = { image: ["jpeg", "png", "gif", "webp"], video: [] };
/** X shows up to 4 photos in one post, or one GIF or video alone (the sandbox refuses a 5th media id as X does). */
const X_MAX_IMAGES = 4;

function severalImagesProblems(items: string[]): ContentProblem[] {
  const problems = listFormatProblems("x", items, X_FORMATS);
  if (items.length > X_MAX_IMAGES) {
    problems.push({ code: "x_too_many_images", field: "media", message: `A post on X carries at most ${X_MAX_IMAGES} images`, limit: X_MAX_IMAGES, actual: items.length });
  }
  if (items.some((url) => mediaFormat({ mediaUrl: url }) === "gif")) {
    problems.push({ code: "x_gif_alone", field: "media", message: "X shows a GIF alone: post it without other images" });
  }
  return problems;
}

export function xAdapter(ctx: AdapterContext): PlatformAdapter {
  const now = () => ctx.clock.now();

  const checkContent = (post: PostInput): ContentProblem[] => {
    const problems: ContentProblem[] = [];
    const items = mediaListOf(post);
    if (items.length > 1) problems.push(...severalImagesProblems(items));
    else {
      const format = formatProblem("x", post, X_FORMATS);
      if (format) problems.push(format);
    }
    if (!post.content.trim()) problems.push({ code: "x_empty", field: "content", message: "A post on X needs text" });
    const weight = xWeightedLength(post.content);
    if (weight > X_MAX_WEIGHTED) {
      problems.push({
        code: "x_too_long",
        field: "content",
        message: `Posts on X are limited to ${X_MAX_WEIGHTED} characters as X counts them (links 23, emoji and CJK 2): this one is ${weight}`,
        limit: X_MAX_WEIGHTED,
        actual: weight,
      });
    }
    // One media: its MIME type decides, as before; several: each URL.
    const kinds = items.length > 1 ? items.map((url) => mediaKind({ mediaUrl: url })) : post.mediaUrl ? [mediaKind(post)] : [];
    if (kinds.some((k) => k !== "image")) {
      problems.push({ code: "x_video_not_supported", field: "media", message: "Video on X is not supported yet: post an image or text" });
    }
    return problems;
  };

  const classifyError = (err: unknown): ErrorClassification => {
    const at = now();
    if (err instanceof PlatformHttpError && err.endpoint !== "refresh") {
      const base = { status: err.status, message: err.message };
      const body = err.body as any;
      if (err.status === 429) {
        const reset = xLimitReset(err.headers);
        const retryAt = reset ?? classifyCommon(err, at).retryAt!;
        return { ...base, kind: "rate_limited", code: "rate_limited", retryAt };
      }
      // Pay-per-use app out of credits: every call of every user fails until the operator pays.
      if (err.status === 402) return { ...base, kind: "transient", code: "credits_depleted", message: "X: the app's API credits are depleted", operator: true };
      if (err.status === 403 && /duplicate/i.test(`${body?.detail ?? ""} ${body?.title ?? ""}`)) {
        return { ...base, kind: "permanent", code: "duplicate", duplicate: true };
      }
    }
    return classifyCommon(err, at);
  };

  /** POST /2/media/upload (JSON, base64): one call for an image; the answer's data.id goes into media_ids. */
  async function uploadImage(accessToken: string, url: string): Promise<string> {
    const image = await mediaBytes(url, "image", ctx.media);
    if (image.bytes.length > X_MAX_IMAGE_BYTES) {
      throw new ContentRejectedError("x", [
        { code: "x_image_too_large", field: "media", message: `Images on X are limited to ${X_MAX_IMAGE_BYTES / 1024 / 1024} MB`, limit: X_MAX_IMAGE_BYTES, actual: image.bytes.length },
      ]);
    }
    const r = await ctx.http.request("media_upload", `${ctx.urls.api}/2/media/upload`, {
      bearer: accessToken,
      json: { media: image.bytes.toString("base64"), media_category: "tweet_image" },
    });
    const id = r.body?.data?.id;
    if (!id) throw new PlatformError("x", "media_upload_failed", "transient", "X accepted the image but returned no media id");
    return String(id);
  }

  return {
    platform: "x",
    displayName: "X",
    enabled: Boolean(ctx.credentials),
    ...(ctx.disabledReason ? { disabledReason: ctx.disabledReason } : {}),
    oauth: () => oauthOptions(ctx, SPEC),
    exchangeCode: exchangeCodeWith(ctx, SPEC),

    async shapeConnection(tokens) {
      const me = await ctx.http.request("users_me", `${ctx.urls.api}/2/users/me`, { bearer: tokens.accessToken });
      const u = me.body.data ?? {};
      return {
        kind: "connection",
        connection: {
          platformUserId: String(u.id),
          platformUsername: u.username ?? null,
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken ?? null,
          expiresAt: inSeconds(now(), tokens.expiresIn),
          refreshTokenExpiresAt: null,
          scopes: tokens.scope ?? SPEC.scope,
          metadata: { username: u.username ?? null, name: u.name ?? null },
        },
      };
    },

    async refresh(conn) {
      if (!conn.refreshToken) {
        throw new PlatformError("x", "reconnect_required", "auth_revoked", "X gave no refresh token (offline.access missing): reconnect the account");
      }
      // Single use: the answer carries the only valid refresh token from now on; store it before anything else.
      const t = await tokenCall(ctx, SPEC, "refresh", { grant_type: "refresh_token", refresh_token: conn.refreshToken });
      return {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken ?? null,
        expiresAt: inSeconds(now(), t.expiresIn),
        refreshTokenExpiresAt: null,
        ...(t.scope ? { scopes: t.scope } : {}),
      };
    },

    async validate(conn) {
      await ctx.http.request("users_me", `${ctx.urls.api}/2/users/me`, { bearer: conn.accessToken });
      return {};
    },

    async publish(conn, post) {
      const problems = checkContent(post);
      if (problems.length) throw new ContentRejectedError("x", problems);
      // Media goes through X's upload first; the post then names it. Never silently text-only.
      const mediaIds: string[] = [];
      for (const url of mediaListOf(post)) mediaIds.push(await uploadImage(conn.accessToken, url));
      const r = await ctx.http.request("publish", `${ctx.urls.api}/2/tweets`, {
        bearer: conn.accessToken,
        json: { text: post.content.normalize("NFC"), ...(mediaIds.length ? { media: { media_ids: mediaIds } } : {}) },
      });
      const id = String(r.body.data.id);
      const username = conn.metadata.username;
      return { platformPostId: id, url: `https://x.com/${username ?? "i/web"}/status/${id}` };
    },

    async listRecentPosts(conn, since) {
      const r = await ctx.http.request("list_recent", `${ctx.urls.api}/2/users/${conn.platformUserId}/tweets`, {
        bearer: conn.accessToken,
        query: { start_time: since.toISOString(), max_results: 100, "tweet.fields": "created_at" },
      });
      return (r.body.data ?? []).map((t: any) => ({ id: String(t.id), text: String(t.text), createdAt: new Date(t.created_at) }));
    },

    async revoke(conn) {
      const c = credentialsOf(ctx);
      const basic = { user: c.clientId, password: c.clientSecret };
      if (conn.refreshToken) {
        await ctx.http.request("revoke", ctx.urls.revoke!, { basic, form: { token: conn.refreshToken, token_type_hint: "refresh_token", client_id: c.clientId } });
      }
      await ctx.http.request("revoke", ctx.urls.revoke!, { basic, form: { token: conn.accessToken, token_type_hint: "access_token", client_id: c.clientId } });
    },

    async fetchAnalytics(conn, postId) {
      const r = await ctx.http.request("analytics", `${ctx.urls.api}/2/tweets/${postId}`, {
        bearer: conn.accessToken,
        query: { "tweet.fields": "public_metrics" },
      });
      const m = r.body.data?.public_metrics ?? {};
      const n = (v: unknown) => Number(v ?? 0) || 0;
      const impressions = n(m.impression_count);
      return {
        impressions,
        // X reports no reach: impressions are the closest it offers.
        reach: impressions,
        engagement: n(m.like_count) + n(m.retweet_count) + n(m.reply_count) + n(m.quote_count) + n(m.bookmark_count),
      };
    },

    checkContent,
    classifyError,
  };
}
