// Instagram publishing as the Graph API does it: 1) a container per media
// (POST /{ig-user-id}/media), processed IN_PROGRESS → FINISHED by the sandbox
// clock, 2) media_publish, the only call that makes a post, within the
// account's 24-hour limit. A carousel is child containers
// (is_carousel_item=true, no caption) named by a parent container
// (media_type=CAROUSEL, children=<ids>, caption); publishing the parent makes
// ONE post (CAROUSEL_ALBUM) and counts once against the limit ("Carousels
// count as a single post", Meta's content-publishing guide).
//
// Error answers: 9007/2207027 "Media ID is not available" for a container not
// yet processed (seen on carousels too: exileum/meta-mcp#138); 100/2207028 for a
// carousel with fewer than 2 or more than 10 children and -2/2207020 for an
// expired container (Instagram's error-code reference); 100/2207089 for a
// carousel item published alone (the answer quoted in
// MookieLian/n8n-nodes-instagram#9).
import type { Request, Router } from "express";
import { graphFail, handle, params } from "./kit.ts";
import type { Container, PageSpec, Published, SandboxState, Token } from "./state.ts";
import { newestFirst } from "./state.ts";

const DAY = 86_400_000;
const MAX_CHILDREN = 10;

export interface GraphHelpers {
  token(req: Request): Token;
  igFor(t: Token, node: string): PageSpec;
  businessRole(t: Token, page: PageSpec, instagram: boolean): void;
  notLimited(platform: "facebook" | "instagram", user: string, node: string): void;
  created(p: Published): string;
  sinceOf(req: Request): number;
}

const notAContainer = () => graphFail(100, "The media container does not exist or belongs to another account.", { subcode: 2207006 });

export function instagramRoutes(r: Router, base: string, s: SandboxState, g: GraphHelpers): void {
  /** The carousel's children, each an existing FINISHED carousel item of this account (else Graph's answer). */
  function childrenOf(node: string, list: string | undefined): Container[] {
    const ids = (list ?? "").split(",").map((x) => x.trim()).filter(Boolean);
    if (ids.length < 2 || ids.length > MAX_CHILDREN) {
      throw graphFail(100, "Your post won't be shared as a carousel. Carousels need at least 2 photos/videos and no more than 10 photos/videos.", { subcode: 2207028 });
    }
    return ids.map((id) => {
      const c = s.igContainers.get(id);
      if (!c || c.igUserId !== node || !c.carouselItem) throw notAContainer();
      const status = s.containerStatus(c);
      if (status === "EXPIRED") throw graphFail(-2, "The media you are trying to access has expired. Please try to upload again.", { subcode: 2207020 });
      if (status === "PUBLISHED") throw graphFail(100, "The media has already been published.", { subcode: 2207001 });
      if (status === "IN_PROGRESS") throw graphFail(9007, "Media ID is not available", { subcode: 2207027 });
      return c;
    });
  }

  // Three kinds of container on one edge; each named apart so tests can count and fault them.
  const kindOf = (req: Request) => {
    const p = params(req);
    if (p.media_type === "CAROUSEL") return "instagram.carousel.create";
    return p.is_carousel_item === "true" ? "instagram.carousel_item.create" : "instagram.media.create";
  };

  r.post(`${base}/:node/media`, handle(s, kindOf, (req) => {
    const t = g.token(req);
    const node = String(req.params.node);
    g.businessRole(t, g.igFor(t, node), true);
    g.notLimited("instagram", t.user, node);
    const p = params(req);
    const id = s.nextId();
    const at = { createdAt: s.now(), createdReal: Date.now() };
    if (p.media_type === "CAROUSEL") {
      const children = childrenOf(node, p.children);
      s.igContainers.set(id, { igUserId: node, caption: p.caption ?? "", mediaUrl: children[0]!.mediaUrl, published: false, video: false, children: p.children!.split(",").map((x) => x.trim()), ...at });
      return { json: { id } };
    }
    const media = p.image_url ?? p.video_url;
    if (!media) throw graphFail(100, "The parameter image_url is required.");
    const item = p.is_carousel_item === "true";
    // A carousel video is media_type=VIDEO; a standalone one is a Reel (REELS).
    if (item && p.video_url && p.media_type !== "VIDEO") throw graphFail(100, "The parameter media_type must be VIDEO for a carousel video item.");
    // A carousel item carries no caption: the carousel's caption is the post's.
    s.igContainers.set(id, { igUserId: node, caption: item ? "" : (p.caption ?? ""), mediaUrl: media, published: false, video: Boolean(p.video_url), ...(item ? { carouselItem: true } : {}), ...at });
    return { json: { id } };
  }));

  r.post(`${base}/:node/media_publish`, handle(s, "instagram.media_publish", (req) => {
    const t = g.token(req);
    const node = String(req.params.node);
    g.igFor(t, node);
    g.notLimited("instagram", t.user, node);
    const c = s.igContainers.get(params(req).creation_id ?? "");
    if (!c || c.igUserId !== node) throw notAContainer();
    if (c.carouselItem) {
      throw graphFail(100, "Media created with is_carousel_item=true is a carousel item and cannot be published as a standalone post.", { subcode: 2207089 });
    }
    if (c.published) throw graphFail(100, "The media has already been published.", { subcode: 2207001 });
    const status = s.containerStatus(c);
    if (status === "EXPIRED") throw graphFail(100, "The media container has expired.", { subcode: 2207006 });
    // Published before processing finished: Instagram's "not ready" answer.
    if (status === "IN_PROGRESS") throw graphFail(9007, "Media ID is not available", { subcode: 2207027 });
    const recent = s.postsOf("instagram", node).filter((x) => x.createdAt > s.now() - DAY);
    if (recent.length >= s.settings.instagramDailyLimit) {
      throw graphFail(9, "Application request limit reached: the account has reached its 24-hour publishing limit", { subcode: 2207042, status: 400 });
    }
    c.published = true;
    const children = (c.children ?? []).map((id) => s.igContainers.get(id)!);
    for (const child of children) child.published = true;
    const post: Published = {
      platform: "instagram",
      id: s.nextId(),
      user: t.user,
      account: node,
      text: c.caption,
      mediaUrl: c.mediaUrl,
      ...(c.children ? { mediaType: "CAROUSEL_ALBUM", children: children.map((x) => x.mediaUrl) } : {}),
      createdAt: s.now(),
    };
    s.publish(post);
    return { json: { id: post.id } };
  }));

  r.get(`${base}/:node/media`, handle(s, "instagram.media.list", (req) => {
    const t = g.token(req);
    const node = String(req.params.node);
    g.igFor(t, node);
    g.notLimited("instagram", t.user, node);
    const since = g.sinceOf(req);
    const data = newestFirst(s.postsOf("instagram", node).filter((x) => x.createdAt >= since)).map((x) => ({
      id: x.id,
      caption: x.text,
      media_type: x.mediaType ?? "IMAGE",
      timestamp: g.created(x),
    }));
    return { json: { data } };
  }));

  r.get(`${base}/:node/content_publishing_limit`, handle(s, "instagram.publishing_limit", (req) => {
    const t = g.token(req);
    const node = String(req.params.node);
    g.igFor(t, node);
    const used = s.postsOf("instagram", node).filter((x) => x.createdAt > s.now() - DAY).length;
    return { json: { data: [{ quota_usage: used, config: { quota_total: s.settings.instagramDailyLimit, quota_duration: 86400 } }] } };
  }));
}
