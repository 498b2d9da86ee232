// The Graph API as Facebook Pages and Instagram professional accounts see it:
// identity, Pages with their tokens, debug_token, feed posts, insights; the
// Instagram publishing edges are in instagram.ts.
import express, { type Request, type Router } from "express";
import { bearer, Fail, graphFail, handle, params } from "./kit.ts";
import type { PageSpec, Published, SandboxState, Token } from "./state.ts";
import { ids, newestFirst } from "./state.ts";
import { instagramRoutes } from "./instagram.ts";

const DAY = 86_400_000;

export function graphRoutes(s: SandboxState): Router {
  const r = express.Router();
  const base = "/graph/:version";

  function token(req: Request): Token {
    const st = s.tokenState("meta", bearer(req) ?? params(req).access_token);
    if (st.problem === "missing") throw graphFail(104, "An access token is required to request this resource.");
    if (st.problem === "invalid") throw graphFail(190, "Invalid OAuth access token - Cannot parse access token");
    if (st.problem === "expired") throw graphFail(190, "Error validating access token: Session has expired.", { subcode: 463 });
    if (st.problem === "revoked") {
      throw graphFail(190, "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.", { subcode: 460 });
    }
    return st.token!;
  }

  function notLimited(platform: "facebook" | "instagram", user: string, node: string): void {
    const until = s.rateLimitedUntil(platform, user);
    if (until === undefined) return;
    const minutes = Math.ceil((until - s.now()) / 60_000);
    if (platform === "facebook") {
      const usage = { [node]: [{ type: "pages", call_count: 100, total_cputime: 100, total_time: 100, estimated_time_to_regain_access: minutes }] };
      throw graphFail(32, "Page request limit reached", { status: 403, headers: { "x-business-use-case-usage": JSON.stringify(usage) } });
    }
    throw graphFail(4, "Application request limit reached", { status: 403, headers: { "x-app-usage": JSON.stringify({ call_count: 100, total_cputime: 100, total_time: 100 }) } });
  }

  const userToken = (req: Request) => {
    const t = token(req);
    if (t.kind !== "user" && t.kind !== "long_user") throw graphFail(190, "This method must be called with a user access token.", { subcode: 467 });
    return t;
  };

  function pageFor(t: Token, node: string): PageSpec {
    const page = s.pagesOf(t.user).find((p) => p.id === node);
    if (!page) throw graphFail(100, `Unsupported request - Object with ID '${node}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`, { type: "GraphMethodException" });
    // Publishing to a Page takes that Page's token.
    if (t.kind !== "page" || t.pageId !== page.id || !t.scopes.includes("pages_manage_posts")) {
      throw graphFail(200, "(#200) The user hasn't authorized the application to perform this action", { status: 403 });
    }
    businessRole(t, page, false);
    return page;
  }

  /** A Page role granted through Business Manager needs business_management (and for Instagram ads_management or ads_read). */
  function businessRole(t: Token, page: PageSpec, instagram: boolean): void {
    if (!page.businessManaged) return;
    if (!t.scopes.includes("business_management")) throw graphFail(200, "(#200) Requires business_management permission to manage the object", { status: 403 });
    if (instagram && !t.scopes.includes("ads_management") && !t.scopes.includes("ads_read")) {
      throw graphFail(10, "(#10) Requires ads_management or ads_read permission for a Page managed in Business Manager", { status: 403 });
    }
  }

  function igFor(t: Token, node: string): PageSpec {
    const page = s.pagesOf(t.user).find((p) => p.instagram?.id === node);
    if (!page) throw graphFail(100, `Unsupported request - Object with ID '${node}' does not exist`, { type: "GraphMethodException" });
    return page;
  }

  const created = (p: Published) => new Date(p.createdAt).toISOString().replace(/\.\d{3}Z$/, "+0000");
  const sinceOf = (req: Request) => (params(req).since ? Number(params(req).since) * 1000 : 0);
  const newest = newestFirst;

  r.get(`${base}/me`, handle(s, "facebook.me", (req) => {
    const t = userToken(req);
    return { json: { id: ids.facebookUser(t.user), name: `${t.user} (sandbox)` } };
  }));

  r.get(`${base}/me/accounts`, handle(s, "facebook.accounts", (req) => {
    const t = userToken(req);
    const withIg = (params(req).fields ?? "").includes("instagram_business_account");
    const data = s.pagesOf(t.user).map((p) => {
      // A Page token from a long-lived user token never expires; from a short one it lives as long.
      const pt = s.issueToken({ family: "meta", kind: "page", user: t.user, clientId: t.clientId, scopes: t.scopes, expiresAt: t.kind === "long_user" ? null : t.expiresAt, pageId: p.id }, "EAAP");
      return {
        id: p.id,
        name: p.name,
        access_token: pt.value,
        category: "Local business",
        tasks: ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MODERATE", "MANAGE"],
        ...(withIg && p.instagram ? { instagram_business_account: { id: p.instagram.id, username: p.instagram.username } } : {}),
      };
    });
    return { json: { data, paging: { cursors: { before: "QVFIUk", after: "QVFIUl" } } } };
  }));

  r.get(`${base}/debug_token`, handle(s, "facebook.debug_token", (req) => {
    const p = params(req);
    const [appId, secret] = (bearer(req) ?? p.access_token ?? "").split("|");
    const app = s.app("meta", appId);
    if (!app || app.clientSecret !== secret) throw graphFail(190, "Invalid OAuth access token signature.");
    const st = s.tokenState("meta", p.input_token);
    const t = st.token;
    if (!t || st.problem) {
      const sub = st.problem === "expired" ? 463 : st.problem === "revoked" ? 460 : undefined;
      return { json: { data: { app_id: app.clientId, is_valid: false, scopes: [], error: { code: 190, message: "The access token is invalid or has expired", ...(sub ? { subcode: sub } : {}) } } } };
    }
    return {
      json: {
        data: {
          app_id: app.clientId,
          type: t.kind === "page" ? "PAGE" : "USER",
          application: app.name,
          is_valid: true,
          expires_at: t.expiresAt === null ? 0 : Math.floor(t.expiresAt / 1000),
          data_access_expires_at: Math.floor((s.now() + 90 * DAY) / 1000),
          scopes: t.scopes,
          user_id: ids.facebookUser(t.user),
          ...(t.pageId ? { profile_id: t.pageId } : {}),
        },
      },
    };
  }));

  // Facebook Page posts: feed (text, link), photos (image + caption), videos.
  for (const edge of ["feed", "photos", "videos"]) {
    r.post(`${base}/:node/${edge}`, handle(s, "facebook.publish", (req) => {
      const t = token(req);
      const node = String(req.params.node);
      const page = pageFor(t, node);
      notLimited("facebook", t.user, node);
      const p = params(req);
      const text = edge === "feed" ? p.message : edge === "photos" ? p.caption : p.description;
      const media = edge === "photos" ? p.url : edge === "videos" ? p.file_url : undefined;
      if (edge === "feed" && !text && !p.link) throw graphFail(100, "(#100) Missing message or attachment");
      if (edge !== "feed" && !media) throw graphFail(100, `(#100) Missing ${edge === "photos" ? "url" : "file_url"}`);
      const last = s.postsOf("facebook", page.id).at(-1);
      if (text && last?.text === text) throw graphFail(506, "Duplicate status message", { subcode: 1455006 });
      const objectId = s.nextId();
      const post: Published = { platform: "facebook", id: `${page.id}_${objectId}`, user: t.user, account: page.id, text: text ?? "", createdAt: s.now(), ...(media ? { mediaUrl: media } : {}) };
      s.publish(post);
      return { json: edge === "feed" ? { id: post.id } : edge === "photos" ? { id: objectId, post_id: post.id } : { id: objectId } };
    }));
  }

  const listPosts = handle(s, "facebook.posts.list", (req) => {
    const t = token(req);
    const node = String(req.params.node);
    if (!s.pagesOf(t.user).some((p) => p.id === node)) throw graphFail(100, `Unsupported get request. Object with ID '${node}' does not exist`, { type: "GraphMethodException" });
    notLimited("facebook", t.user, node);
    const since = sinceOf(req);
    const limit = Math.min(Number(params(req).limit ?? 25) || 25, 100);
    const data = newest(s.postsOf("facebook", node).filter((x) => x.createdAt >= since))
      .slice(0, limit)
      .map((x) => ({ id: x.id, message: x.text, created_time: created(x) }));
    return { json: { data } };
  });
  r.get(`${base}/:node/posts`, listPosts);
  r.get(`${base}/:node/feed`, listPosts);

  instagramRoutes(r, base, s, { token, igFor, businessRole, notLimited, created, sinceOf });

  r.get(`${base}/:node/insights`, handle(s, (req) => (s.postById(String(req.params.node))?.platform === "instagram" ? "instagram.insights" : "facebook.insights"), (req) => {
    const t = token(req);
    const found = s.postById(String(req.params.node));
    const post = found && (found.platform === "facebook" || found.platform === "instagram") && found.user === t.user ? found : undefined;
    if (!post) throw graphFail(100, `Unsupported get request. Object with ID '${req.params.node}' does not exist`, { type: "GraphMethodException" });
    // Insights need their own permission: read_insights for Pages, instagram_manage_insights for Instagram.
    const needed = post.platform === "facebook" ? "read_insights" : "instagram_manage_insights";
    if (!t.scopes.includes(needed)) throw graphFail(10, `(#10) Requires ${needed} permission to access insights`, { status: 403 });
    const m = s.analytics.get(post.id) ?? { reach: 0, impressions: 0, engagement: 0 };
    const value: Record<string, number | Record<string, number>> =
      post.platform === "facebook"
        ? { post_media_view: m.impressions, post_total_media_view_unique: m.reach, post_reactions_by_type_total: { like: m.engagement } }
        : { reach: m.reach, views: m.impressions, total_interactions: m.engagement };
    const asked = (params(req).metric ?? "").split(",").filter(Boolean);
    // Retired metrics (post_impressions, post_impressions_unique, post_engaged_users, Instagram impressions) and any
    // unknown name fail the whole call, as on Graph.
    const invalid = asked.find((n) => !(n in value));
    if (invalid) throw graphFail(100, `(#100) The value must be a valid insights metric: ${invalid}`);
    const names = asked;
    return { json: { data: names.map((name) => ({ name, period: "lifetime", values: [{ value: value[name] }], id: `${post.id}/insights/${name}/lifetime` })) } };
  }));

  r.delete(`${base}/:node/permissions`, handle(s, "facebook.permissions.revoke", (req) => {
    const t = token(req);
    s.revokeUser("meta", t.user);
    return { json: { success: true } };
  }));

  r.get(`${base}/:node`, handle(s, "graph.node", (req) => {
    const t = token(req);
    const node = String(req.params.node);
    const container = s.igContainers.get(node);
    if (container) return { json: { id: node, status_code: s.containerStatus(container) } };
    const page = s.pagesOf(t.user).find((p) => p.id === node);
    if (page) return { json: { id: page.id, name: page.name } };
    // A Page video: its post is <page>_<video id> (the upload answered the video's id only).
    const pages = new Set(s.pagesOf(t.user).map((p) => p.id));
    const videoPost = [...pages].flatMap((id) => s.postsOf("facebook", id)).find((p) => p.id.endsWith(`_${node}`));
    if (videoPost) return { json: { id: node, post_id: videoPost.id } };
    const ig = s.pagesOf(t.user).find((p) => p.instagram?.id === node)?.instagram;
    if (ig) return { json: { id: ig.id, username: ig.username } };
    throw new Fail({ status: 400, json: { error: { message: `Unsupported get request. Object with ID '${node}' does not exist`, type: "GraphMethodException", code: 100, error_subcode: 33 } } });
  }));
  return r;
}
