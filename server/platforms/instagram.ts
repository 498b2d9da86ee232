// Instagram professional accounts through Facebook Login: the Page's
// instagram_business_account, two-step publishing (container, then publish).
import { exchangeCodeWith, formatProblem, mediaKind, mediaListOf, oauthOptions, type AdapterContext, type OAuthSpec } from "./base.ts";
import { ContentRejectedError, PlatformError } from "./errors.ts";
import { createHash } from "node:crypto";
import { chooseFrom, classifyGraph, debugToken, insightValue, META_SPEC, needsNewContainer, pagesOf, reconnectRequired } from "./graph.ts";
import { carouselContainer, carouselProblems, INSTAGRAM_FORMATS } from "./instagram-carousel.ts";
import { hashtagCount } from "./text.ts";
import type { ConnectionCredentials, ContentProblem, PlatformAdapter, PostInput } from "./types.ts";

const SPEC: OAuthSpec = {
  ...META_SPEC,
  // instagram_content_publish is what publishing needs (the seed omitted it); instagram_manage_insights the
  // analytics; business_management and ads_read a Page role granted through Business Manager.
  scope: ["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement", "instagram_manage_insights", "business_management", "ads_read"],
};
const MAX_CAPTION = 2200;
const MAX_HASHTAGS = 30;
/** How long one attempt waits for a container, in platform timeouts. */
const CONTAINER_WAIT = 1.5;
export const INSTAGRAM_METRICS = ["reach", "views", "total_interactions"];

export function instagramAdapter(ctx: AdapterContext): PlatformAdapter {
  const now = () => ctx.clock.now();
  const igOf = (conn: ConnectionCredentials) => String(conn.metadata.igUserId ?? conn.platformUserId);

  const checkContent = (post: PostInput): ContentProblem[] => {
    const problems: ContentProblem[] = [];
    const items = mediaListOf(post);
    if (items.length > 1) problems.push(...carouselProblems(items));
    else {
      const format = formatProblem("instagram", post, INSTAGRAM_FORMATS);
      if (format) problems.push(format);
    }
    if (!items.length) {
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

  /**
   * Every container (images too) is processed before it can be published;
   * Reels take minutes. Polls with growing pauses for at most CONTAINER_WAIT
   * platform timeouts, then gives up for this attempt: the container id stays
   * on the post, so the retry resumes the wait instead of uploading again.
   */
  async function waitUntilReady(conn: ConnectionCredentials, containerId: string, forget: () => Promise<void>, giveUpAt: number): Promise<void> {
    for (let pause = 250; ; pause = Math.min(pause * 2, 5000)) {
      const r = await ctx.http.request("container_status", `${ctx.urls.api}/${containerId}`, {
        query: { fields: "status_code" },
        bearer: conn.accessToken,
      });
      const status = String(r.body.status_code ?? "FINISHED");
      if (status === "FINISHED") return;
      if (status === "ERROR") throw new PlatformError("instagram", "media_processing_failed", "permanent", "Instagram could not process the media");
      // Our earlier attempt published it and its answer was lost: look for the post, never publish it twice.
      if (status === "PUBLISHED") throw new PlatformError("instagram", "container_published", "outcome_unknown", "Instagram already published this container; checking the account's posts");
      if (status === "EXPIRED") {
        // Containers live 24 hours: the next attempt makes a new one.
        await forget();
        throw new PlatformError("instagram", "container_expired", "transient", "Instagram's media container expired; it will be made again");
      }
      if (Date.now() + pause > giveUpAt) {
        throw new PlatformError("instagram", "media_processing", "transient", "Instagram is still processing the media; publishing resumes when it is ready");
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** The post's container when it was made for exactly this caption and media, else a new one (remembered at once). */
  async function containerFor(conn: ConnectionCredentials, post: PostInput): Promise<string> {
    const ig = igOf(conn);
    const media =
      mediaKind(post) === "video"
        ? { video_url: post.mediaUrl!, media_type: "REELS", caption: post.content }
        : { image_url: post.mediaUrl!, caption: post.content };
    const key = createHash("sha256").update(JSON.stringify(media)).digest("base64url");
    const saved = await post.state?.get();
    if (typeof saved?.containerId === "string" && saved.containerFor === key) return saved.containerId;
    const container = await ctx.http.request("create_container", `${ctx.urls.api}/${ig}/media`, { form: media, bearer: conn.accessToken });
    const id = String(container.body.id);
    await post.state?.set({ containerId: id, containerFor: key });
    return id;
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
      const items = mediaListOf(post);
      // One bound for every container this attempt waits for (a carousel's children and itself).
      const giveUpAt = Date.now() + ctx.http.timeoutMs * CONTAINER_WAIT;
      let containerId: string;
      if (items.length > 1) containerId = await carouselContainer(ctx, conn, ig, post, items, waitUntilReady, giveUpAt);
      else {
        containerId = await containerFor(conn, post);
        await waitUntilReady(conn, containerId, () => post.state?.set({ containerId: null, containerFor: null }) ?? Promise.resolve(), giveUpAt);
      }
      try {
        // Only this second call makes the post visible: a container alone is harmless.
        const published = await ctx.http.request("publish", `${ctx.urls.api}/${ig}/media_publish`, {
          form: { creation_id: containerId },
          bearer: conn.accessToken,
        });
        return { platformPostId: String(published.body.id) };
      } catch (err) {
        // "Create a new container and try again": the retry must not reuse this one.
        if (needsNewContainer(err)) await post.state?.set({ containerId: null, containerFor: null, ...(items.length > 1 ? { carouselChildren: null } : {}) });
        throw err;
      }
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
        // "impressions" is retired (2025-04-21) and would fail the whole call: views replaced it.
        query: { metric: INSTAGRAM_METRICS.join(",") },
        bearer: conn.accessToken,
      });
      return {
        reach: insightValue(r.body, "reach"),
        impressions: insightValue(r.body, "views"),
        engagement: insightValue(r.body, "total_interactions"),
      };
    },

    checkContent,
    classifyError: (err) => classifyGraph(err, now()),
  };
}
