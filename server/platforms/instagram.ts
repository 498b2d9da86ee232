// Instagram professional accounts through Facebook Login: the Page's
// instagram_business_account, two-step publishing (container, then publish).
import { exchangeCodeWith, mediaKind, oauthOptions, type AdapterContext, type OAuthSpec } from "./base.ts";
import { ContentRejectedError, PlatformError } from "./errors.ts";
import { chooseFrom, classifyGraph, debugToken, insightValue, META_SPEC, pagesOf, reconnectRequired } from "./graph.ts";
import { hashtagCount } from "./text.ts";
import type { ConnectionCredentials, ContentProblem, PlatformAdapter, PostInput } from "./types.ts";

const SPEC: OAuthSpec = {
  ...META_SPEC,
  // instagram_content_publish is what publishing needs (the seed omitted it).
  scope: ["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement"],
};
const MAX_CAPTION = 2200;
const MAX_HASHTAGS = 30;
const CONTAINER_POLLS = 10;

export function instagramAdapter(ctx: AdapterContext): PlatformAdapter {
  const now = () => ctx.clock.now();
  const igOf = (conn: ConnectionCredentials) => String(conn.metadata.igUserId ?? conn.platformUserId);

  const checkContent = (post: PostInput): ContentProblem[] => {
    const problems: ContentProblem[] = [];
    if (!mediaKind(post)) {
      problems.push({ code: "instagram_media_required", field: "media", message: "Instagram posts need an image or a video" });
    }
    const length = [...post.content].length;
    if (length > MAX_CAPTION) {
      problems.push({ code: "instagram_caption_too_long", field: "content", message: `Instagram captions are limited to ${MAX_CAPTION} characters`, limit: MAX_CAPTION, actual: length });
    }
    const tags = hashtagCount(post.content);
    if (tags > MAX_HASHTAGS) {
      problems.push({ code: "instagram_too_many_hashtags", field: "content", message: `Instagram allows at most ${MAX_HASHTAGS} hashtags`, limit: MAX_HASHTAGS, actual: tags });
    }
    return problems;
  };

  /** Videos are processed before they can be published; images are ready at once. */
  async function waitUntilReady(conn: ConnectionCredentials, containerId: string): Promise<void> {
    for (let i = 0; i < CONTAINER_POLLS; i++) {
      const r = await ctx.http.request("container_status", `${ctx.urls.api}/${containerId}`, {
        query: { fields: "status_code" },
        bearer: conn.accessToken,
      });
      const status = String(r.body.status_code ?? "FINISHED");
      if (status === "FINISHED") return;
      if (status === "ERROR" || status === "EXPIRED") {
        throw new PlatformError("instagram", "media_processing_failed", "permanent", `Instagram could not process the media (${status})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    throw new PlatformError("instagram", "media_processing_slow", "transient", "Instagram is still processing the media");
  }

  return {
    platform: "instagram",
    displayName: "Instagram",
    enabled: Boolean(ctx.credentials),
    ...(ctx.disabledReason ? { disabledReason: ctx.disabledReason } : {}),
    oauth: () => oauthOptions(ctx, SPEC),
    exchangeCode: exchangeCodeWith(ctx, SPEC),

    async shapeConnection(tokens, shape) {
      const { userId, pages, scopes } = await pagesOf(ctx, tokens);
      const withIg = pages.filter((p) => p.instagram);
      if (withIg.length === 0) {
        throw new PlatformError(
          "instagram",
          "no_instagram_business_account",
          "permanent",
          "No Instagram professional account is linked to a Facebook Page you manage: switch the Instagram account to Business or Creator and link it to your Page, then reconnect",
        );
      }
      const candidates = withIg.map((p) => ({
        id: p.id,
        name: p.instagram!.username ?? p.name,
        connection: {
          platformUserId: p.instagram!.id,
          platformUsername: p.instagram!.username,
          accessToken: p.accessToken,
          refreshToken: null,
          expiresAt: null,
          refreshTokenExpiresAt: null,
          scopes,
          metadata: { igUserId: p.instagram!.id, pageId: p.id, pageName: p.name, facebookUserId: userId },
        },
      }));
      return chooseFrom(ctx, candidates, shape);
    },

    refresh: async () => reconnectRequired(ctx),
    validate: (conn) => debugToken(ctx, conn),

    async publish(conn, post) {
      const problems = checkContent(post);
      if (problems.length) throw new ContentRejectedError("instagram", problems);
      const ig = igOf(conn);
      const media =
        mediaKind(post) === "video"
          ? { video_url: post.mediaUrl!, media_type: "REELS", caption: post.content }
          : { image_url: post.mediaUrl!, caption: post.content };
      const container = await ctx.http.request("create_container", `${ctx.urls.api}/${ig}/media`, { form: media, bearer: conn.accessToken });
      const containerId = String(container.body.id);
      if (media.media_type === "REELS") await waitUntilReady(conn, containerId);
      // Only this second call makes the post visible: a container alone is harmless.
      const published = await ctx.http.request("publish", `${ctx.urls.api}/${ig}/media_publish`, {
        form: { creation_id: containerId },
        bearer: conn.accessToken,
      });
      return { platformPostId: String(published.body.id) };
    },

    async listRecentPosts(conn, since) {
      const r = await ctx.http.request("list_recent", `${ctx.urls.api}/${igOf(conn)}/media`, {
        query: { fields: "id,caption,timestamp", since: Math.floor(since.getTime() / 1000), limit: 50 },
        bearer: conn.accessToken,
      });
      return (r.body.data ?? [])
        .map((p: any) => ({ id: String(p.id), text: String(p.caption ?? ""), createdAt: new Date(p.timestamp) }))
        // Graph timestamps have whole seconds.
        .filter((p: { createdAt: Date }) => p.createdAt.getTime() >= Math.floor(since.getTime() / 1000) * 1000);
    },

    async fetchAnalytics(conn, mediaId) {
      const r = await ctx.http.request("insights", `${ctx.urls.api}/${mediaId}/insights`, {
        query: { metric: "reach,impressions,total_interactions" },
        bearer: conn.accessToken,
      });
      return {
        reach: insightValue(r.body, "reach"),
        impressions: insightValue(r.body, "impressions", "views"),
        engagement: insightValue(r.body, "total_interactions"),
      };
    },

    checkContent,
    classifyError: (err) => classifyGraph(err, now()),
  };
}
