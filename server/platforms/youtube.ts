// YouTube through Google OAuth: offline access for a refresh token that is
// never rotated, video-only publishing by resumable upload.
import { exchangeCodeWith, formatProblem, inSeconds, mediaKind, oauthOptions, singleMediaProblem, tokenCall, type AdapterContext, type OAuthSpec } from "./base.ts";
import { classifyCommon, ContentRejectedError, nextMidnight, PlatformError, PlatformHttpError } from "./errors.ts";
import { downloadMedia } from "../media/fetch.ts";
import { uploadResumable } from "./youtube-upload.ts";
import { utf8Length } from "./text.ts";
import type { ConnectionCredentials, ContentProblem, ErrorClassification, PlatformAdapter, PostInput } from "./types.ts";

const SPEC: OAuthSpec = {
  scope: ["https://www.googleapis.com/auth/youtube", "openid", "email", "profile"],
  scopeSeparator: " ",
  pkce: true,
  clientAuth: "body",
  // Without both, Google returns no refresh token on a repeat consent.
  authorizationParams: { access_type: "offline", prompt: "consent", include_granted_scopes: "true" },
};
const MAX_TITLE = 100;
/** Upload sessions one post may use (each may create a video). */
const MAX_UPLOADS_PER_POST = 3;
const PRIVATE_NOTICE = (privacy: string) =>
  `YouTube made this video ${privacy}: the app's API project has not passed Google's audit, so only you can see it until you change its visibility in YouTube Studio`;
const MAX_DESCRIPTION_BYTES = 5000;
const QUOTA_REASONS = new Set(["quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"]);
const SHORT_RATE_REASONS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);

/** The title: given, or the content's first line. */
export function youtubeTitle(post: PostInput): string {
  return (post.title ?? post.content.split(/\r?\n/)[0] ?? "").trim();
}

export function youtubeAdapter(ctx: AdapterContext): PlatformAdapter {
  const now = () => ctx.clock.now();
  const yt = (path: string) => `${ctx.urls.api}/youtube/v3/${path}`;

  const checkContent = (post: PostInput): ContentProblem[] => {
    const problems: ContentProblem[] = [];
    const format = formatProblem("youtube", post, { image: [], video: ["mp4", "mov", "m4v", "avi", "wmv", "flv", "webm", "mkv", "3gp", "mpeg", "mpg"] });
    if (format) problems.push(format);
    const several = singleMediaProblem("youtube", "YouTube", post);
    if (several) problems.push(several);
    if (mediaKind(post) !== "video") {
      problems.push({ code: "youtube_video_required", field: "media", message: "YouTube posts need a video: there is no API for text posts" });
    }
    const title = youtubeTitle(post);
    if (!title) problems.push({ code: "youtube_title_required", field: "title", message: "A YouTube video needs a title" });
    if ([...title].length > MAX_TITLE) {
      problems.push({ code: "youtube_title_too_long", field: "title", message: `YouTube titles are limited to ${MAX_TITLE} characters`, limit: MAX_TITLE, actual: [...title].length });
    }
    const bytes = utf8Length(post.content);
    if (bytes > MAX_DESCRIPTION_BYTES) {
      problems.push({ code: "youtube_description_too_long", field: "content", message: `YouTube descriptions are limited to ${MAX_DESCRIPTION_BYTES} bytes`, limit: MAX_DESCRIPTION_BYTES, actual: bytes });
    }
    if (/[<>]/.test(title) || /[<>]/.test(post.content)) {
      problems.push({ code: "youtube_angle_brackets", field: /[<>]/.test(title) ? "title" : "content", message: "YouTube titles and descriptions cannot contain < or >" });
    }
    return problems;
  };

  const classifyError = (err: unknown): ErrorClassification => {
    const at = now();
    if (err instanceof PlatformHttpError && err.endpoint !== "refresh") {
      const base = { status: err.status, message: err.message };
      const reasons: string[] = ((err.body as any)?.error?.errors ?? []).map((e: any) => String(e.reason));
      // The daily quota resets at midnight Pacific time.
      if (reasons.some((r) => QUOTA_REASONS.has(r))) {
        return { ...base, kind: "rate_limited", code: reasons.find((r) => QUOTA_REASONS.has(r))!, retryAt: nextMidnight(at, "America/Los_Angeles") };
      }
      if (reasons.some((r) => SHORT_RATE_REASONS.has(r))) {
        return { ...base, kind: "rate_limited", code: "rate_limited", retryAt: classifyCommon(err, at).retryAt ?? new Date(at.getTime() + 15 * 60_000) };
      }
      if (err.status === 429) return { ...base, kind: "rate_limited", code: "rate_limited", retryAt: classifyCommon(err, at).retryAt! };
    }
    return classifyCommon(err, at);
  };

  async function channelOf(accessToken: string) {
    const r = await ctx.http.request("channels", yt("channels"), { bearer: accessToken, query: { part: "snippet,contentDetails", mine: "true" } });
    return r.body.items?.[0] as any;
  }


  return {
    platform: "youtube",
    displayName: "YouTube",
    enabled: Boolean(ctx.credentials),
    ...(ctx.disabledReason ? { disabledReason: ctx.disabledReason } : {}),
    oauth: () => oauthOptions(ctx, SPEC),
    exchangeCode: exchangeCodeWith(ctx, SPEC),

    async shapeConnection(tokens) {
      const ch = await channelOf(tokens.accessToken);
      if (!ch) throw new PlatformError("youtube", "no_youtube_channel", "permanent", "This Google account has no YouTube channel: create one, then reconnect");
      return {
        kind: "connection",
        connection: {
          platformUserId: String(ch.id),
          platformUsername: ch.snippet?.customUrl ?? ch.snippet?.title ?? null,
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken ?? null,
          expiresAt: inSeconds(now(), tokens.expiresIn),
          refreshTokenExpiresAt: null,
          scopes: tokens.scope ?? SPEC.scope,
          metadata: {
            channelId: String(ch.id),
            title: ch.snippet?.title ?? null,
            uploadsPlaylistId: ch.contentDetails?.relatedPlaylists?.uploads ?? null,
          },
        },
      };
    },

    async refresh(conn) {
      if (!conn.refreshToken) {
        throw new PlatformError("youtube", "reconnect_required", "auth_revoked", "Google gave no refresh token: reconnect the account");
      }
      const t = await tokenCall(ctx, SPEC, "refresh", { grant_type: "refresh_token", refresh_token: conn.refreshToken });
      return {
        accessToken: t.accessToken,
        // Google does not rotate: the answer omits the refresh token and the old one stays valid.
        refreshToken: t.refreshToken ?? conn.refreshToken,
        expiresAt: inSeconds(now(), t.expiresIn),
        refreshTokenExpiresAt: null,
        ...(t.scope ? { scopes: t.scope } : {}),
      };
    },

    async validate(conn) {
      const ch = await channelOf(conn.accessToken);
      if (!ch) throw new PlatformError("youtube", "no_youtube_channel", "permanent", "The YouTube channel is gone");
      return {};
    },

    async publish(conn, post) {
      const problems = checkContent(post);
      if (problems.length) throw new ContentRejectedError("youtube", problems);
      // Each upload costs from the project's ~100 a day: a post whose uploads keep ending without an
      // answer (and that reconciliation did not find) stops after a few instead of draining the quota.
      const uploads = Number((await post.state?.get())?.uploads ?? 0);
      if (uploads >= MAX_UPLOADS_PER_POST) {
        throw new PlatformError("youtube", "upload_cap", "permanent", `YouTube was sent this video ${uploads} times without a clear answer; check YouTube Studio before posting it again`);
      }
      // Streamed to a temporary file through the guarded fetcher, never held in memory.
      const video = await downloadMedia(post.mediaUrl!, "video", ctx.media);
      try {
        // S3 and others serve binary/octet-stream: YouTube takes video/* or application/octet-stream.
        const type = /^video\//i.test(video.contentType) ? video.contentType.split(";")[0]!.trim() : "application/octet-stream";
        const session = await ctx.http.request("upload_start", `${ctx.urls.api}/upload/youtube/v3/videos`, {
          bearer: conn.accessToken,
          query: { uploadType: "resumable", part: "snippet,status" },
          headers: { "X-Upload-Content-Length": String(video.bytes), "X-Upload-Content-Type": type },
          json: {
            snippet: { title: youtubeTitle(post), description: post.content, categoryId: "22" },
            status: { privacyStatus: "public", selfDeclaredMadeForKids: false },
          },
        });
        const location = session.headers.get("location");
        if (!location) throw new PlatformError("youtube", "no_upload_url", "transient", "YouTube opened no upload session");
        await post.state?.set({ uploads: uploads + 1 });
        const v = await uploadResumable(ctx, conn.accessToken, location, { path: video.path, bytes: video.bytes, contentType: type });
        const id = String(v.id);
        // An unaudited API project's uploads are forced private: say so instead of promising a public video.
        const privacy = String(v.status?.privacyStatus ?? "public");
        const notice = privacy !== "public" ? PRIVATE_NOTICE(privacy) : null;
        await post.state?.set({ visibility: privacy, notice });
        return {
          platformPostId: id,
          url: `https://www.youtube.com/watch?v=${id}`,
          visibility: privacy,
          ...(notice ? { notice } : {}),
        };
      } finally {
        await video.dispose();
      }
    },

    async listRecentPosts(conn: ConnectionCredentials, since) {
      const playlist = conn.metadata.uploadsPlaylistId ?? (await channelOf(conn.accessToken))?.contentDetails?.relatedPlaylists?.uploads;
      if (!playlist) return [];
      const r = await ctx.http.request("list_recent", yt("playlistItems"), {
        bearer: conn.accessToken,
        query: { part: "snippet,contentDetails", playlistId: String(playlist), maxResults: 50 },
      });
      return (r.body.items ?? [])
        .map((i: any) => ({
          id: String(i.contentDetails?.videoId ?? i.snippet?.resourceId?.videoId),
          title: String(i.snippet?.title ?? ""),
          text: String(i.snippet?.description ?? ""),
          createdAt: new Date(i.contentDetails?.videoPublishedAt ?? i.snippet?.publishedAt),
        }))
        .filter((p: { createdAt: Date }) => p.createdAt >= since);
    },

    async revoke(conn) {
      await ctx.http.request("revoke", ctx.urls.revoke!, { form: { token: conn.refreshToken ?? conn.accessToken } });
    },

    async fetchAnalytics(conn, videoId) {
      const r = await ctx.http.request("analytics", yt("videos"), { bearer: conn.accessToken, query: { part: "statistics", id: videoId } });
      const s = r.body.items?.[0]?.statistics ?? {};
      const n = (v: unknown) => Number(v ?? 0) || 0;
      // The Data API has views, not reach or impressions (those need the Analytics API).
      return { reach: n(s.viewCount), impressions: n(s.viewCount), engagement: n(s.likeCount) + n(s.commentCount) };
    },

    checkContent,
    classifyError,
  };
}
