// Facebook Pages: Facebook Login → 60-day user token → a Page token that does
// not expire; posts go to the Page's feed (or photos, with an image).
import { exchangeCodeWith, formatProblem, mediaKind, oauthOptions, singleMediaProblem, type AdapterContext, type OAuthSpec } from "./base.ts";
import { ContentRejectedError, PlatformError } from "./errors.ts";
import { chooseFrom, classifyGraph, debugToken, insightValue, META_SPEC, pagesOf, reconnectRequired } from "./graph.ts";
import type { ConnectionCredentials, ContentProblem, PlatformAdapter, PostInput } from "./types.ts";

const SPEC: OAuthSpec = {
  ...META_SPEC,
  // read_insights: post analytics; business_management: Pages managed through Business Manager.
  scope: ["public_profile", "pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights", "business_management"],
};
const MAX_MESSAGE = 63_206;
export const FACEBOOK_METRICS = ["post_media_view", "post_total_media_view_unique", "post_reactions_by_type_total"];

export function facebookAdapter(ctx: AdapterContext): PlatformAdapter {
  const now = () => ctx.clock.now();
  const pageOf = (conn: { metadata: Record<string, unknown>; platformUserId: string }) =>
    String(conn.metadata.pageId ?? conn.platformUserId);

  const checkContent = (post: PostInput): ContentProblem[] => {
    const problems: ContentProblem[] = [];
    const format = formatProblem("facebook", post, { image: ["jpeg", "png", "gif", "bmp", "tiff", "webp", "heif"], video: ["mp4", "mov", "m4v", "avi", "mkv", "webm", "wmv", "3gp", "mpeg"] });
    if (format) problems.push(format);
    const several = singleMediaProblem("facebook", "Facebook", post);
    if (several) problems.push(several);
    const length = [...post.content].length;
    if (!post.content.trim() && !post.mediaUrl && !post.link) {
      problems.push({ code: "facebook_empty", field: "content", message: "A Facebook post needs text, a link or media" });
    }
    if (length > MAX_MESSAGE) {
      problems.push({ code: "facebook_too_long", field: "content", message: `Facebook posts are limited to ${MAX_MESSAGE} characters`, limit: MAX_MESSAGE, actual: length });
    }
    return problems;
  };

  /**
   * Graph answers a video upload with the video's id only (photos give their
   * post_id); the Page post that carries it — what /posts lists for
   * reconciliation and what post insights read — is the video's post_id.
   * The video is already out, so a failed lookup keeps the video's id
   * rather than failing a published post.
   */
  async function videoPostId(conn: ConnectionCredentials, videoId: string): Promise<string> {
    try {
      const r = await ctx.http.request("video_post", `${ctx.urls.api}/${videoId}`, { query: { fields: "post_id" }, bearer: conn.accessToken });
      return r.body.post_id ? String(r.body.post_id) : videoId;
    } catch {
      return videoId;
    }
  }

  return {
    platform: "facebook",
    displayName: "Facebook",
    enabled: Boolean(ctx.credentials),
    ...(ctx.disabledReason ? { disabledReason: ctx.disabledReason } : {}),
    oauth: () => oauthOptions(ctx, SPEC),
    exchangeCode: exchangeCodeWith(ctx, SPEC),

    async shapeConnection(tokens, shape) {
      const { userId, pages, scopes } = await pagesOf(ctx, tokens);
      if (pages.length === 0) {
        throw new PlatformError("facebook", "no_facebook_page", "permanent", "This Facebook account manages no Page: create a Page or grant access to one, then reconnect");
      }
      const candidates = pages.map((p) => ({
        id: p.id,
        name: p.name,
        connection: {
          platformUserId: p.id,
          platformUsername: p.name,
          accessToken: p.accessToken,
          refreshToken: null,
          // A Page token obtained from a long-lived user token does not expire.
          expiresAt: null,
          refreshTokenExpiresAt: null,
          scopes,
          metadata: { pageId: p.id, pageName: p.name, facebookUserId: userId },
        },
      }));
      return chooseFrom(ctx, candidates, shape);
    },

    refresh: async () => reconnectRequired(ctx),
    validate: (conn) => debugToken(ctx, conn),

    async publish(conn, post) {
      const problems = checkContent(post);
      if (problems.length) throw new ContentRejectedError("facebook", problems);
      const page = pageOf(conn);
      const kind = mediaKind(post);
      const r =
        kind === "image"
          ? await ctx.http.request("publish", `${ctx.urls.api}/${page}/photos`, { form: { url: post.mediaUrl!, caption: post.content }, bearer: conn.accessToken })
          : kind === "video"
            ? await ctx.http.request("publish", `${ctx.urls.api}/${page}/videos`, { form: { file_url: post.mediaUrl!, description: post.content }, bearer: conn.accessToken })
            : await ctx.http.request("publish", `${ctx.urls.api}/${page}/feed`, {
                form: { message: post.content, link: post.link ?? undefined },
                bearer: conn.accessToken,
              });
      const id = kind === "video" ? await videoPostId(conn, String(r.body.id)) : String(r.body.post_id ?? r.body.id);
      return { platformPostId: id, url: `https://www.facebook.com/${id}` };
    },

    async listRecentPosts(conn, since) {
      const r = await ctx.http.request("list_recent", `${ctx.urls.api}/${pageOf(conn)}/posts`, {
        query: { fields: "id,message,created_time", since: Math.floor(since.getTime() / 1000), limit: 100 },
        bearer: conn.accessToken,
      });
      return (r.body.data ?? []).map((p: any) => ({ id: String(p.id), text: String(p.message ?? ""), createdAt: new Date(p.created_time) }));
    },

    async fetchAnalytics(conn, postId) {
      // post_impressions, post_impressions_unique and post_engaged_users are retired for every version:
      // one retired name fails the whole call (#100). Their successors: media views and unique viewers.
      const r = await ctx.http.request("insights", `${ctx.urls.api}/${postId}/insights`, {
        query: { metric: FACEBOOK_METRICS.join(",") },
        bearer: conn.accessToken,
      });
      return {
        impressions: insightValue(r.body, "post_media_view"),
        reach: insightValue(r.body, "post_total_media_view_unique"),
        engagement: insightValue(r.body, "post_reactions_by_type_total"),
      };
    },

    checkContent,
    classifyError: (err) => classifyGraph(err, now()),
  };
}
