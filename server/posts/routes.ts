// Posts HTTP: CRUD, approval, publish now, the on-demand runner and platform
// health. Rules live in service.ts, preflight.ts and runner.ts.
import { Router, type Response } from "express";
import { z } from "zod";
import { PLATFORMS, type Platform, type Post, type User } from "../../shared/schema.ts";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { badRequest, HttpError, notFound } from "../http/errors.ts";
import { parseBody, parseParams } from "../http/validate.ts";
import { safeDateTime, safeLine, safeText } from "../http/schemas.ts";
import { parsePlatform } from "../platforms/registry.ts";
import { checkCanPost } from "../quota/check.ts";
import { limitConnectionChecks, summarizeVerdicts, verifyConnections } from "../connections/verify.ts";
import { formatHealth, formatPost, healthSchema, postSchema } from "./format.ts";
import { successOnly, type ApiRoute } from "../http/openapi.ts";
import { readHealth } from "./health.ts";
import { preflight, preflightError } from "./preflight.ts";
import { findPost, listPosts } from "./queries.ts";
import { publishRunner, type DrainResult } from "./runner.ts";
import { approvePost, createPost, deletePost, makeAllDue, makeDueNow, storedMedia, updatePost } from "./service.ts";

const platform = z
  .string()
  .transform((v, ctx) => parsePlatform(v) ?? (ctx.addIssue({ code: "custom", message: `must be one of ${PLATFORMS.join(", ")} (or twitter)` }), z.NEVER)) as z.ZodType<Platform>;
const content = safeText(10_000).trim().min(1, "must not be empty");
const mediaUrl = safeLine(2000).pipe(z.url({ protocol: /^https?$/ }));
// Several media in order (an Instagram carousel takes 2–10, X up to 4 images; the platforms' own limits are pre-flight's 422s).
// A list of one is a post with one media, exactly as mediaUrl.
const mediaUrls = z.array(mediaUrl).min(1, "must list at least one URL (leave it out for a post without media)").max(20);
const when = safeDateTime;
// Posts ids are PostgreSQL integers: anything larger is "not a post id", not a 500.
const postId = z.coerce.number().int().positive().max(2_147_483_647);

const schemas = {
  id: z.object({ id: postId }),
  create: z.strictObject({ platform, content, scheduledFor: when.optional(), status: z.enum(["draft", "approved"]).optional(), mediaUrl: mediaUrl.optional(), mediaUrls: mediaUrls.optional() }),
  update: z.strictObject({
    content: content.optional(),
    edited: z.boolean().optional(),
    editedAt: when.optional(),
    scheduledFor: when.nullable().optional(),
    status: z.enum(["draft", "approved"]).optional(),
  }),
  approve: z.strictObject({ postId }),
  publishNow: z.union([z.strictObject({ postId }), z.strictObject({ platform, content, mediaUrl: mediaUrl.optional(), mediaUrls: mediaUrls.optional() })]),
  empty: z.object({}).strict(),
  directPublish: z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal("publish_all") }),
    // /connect-platforms' "Test Publishing": checks each connection, publishes nothing (CLIENT.md §7).
    z.strictObject({ action: z.literal("test_publish_all"), content: z.string().max(10_000).optional(), platforms: z.array(platform).max(10).optional() }),
  ]),
};

export function postRoutes(deps: Deps): Router {
  const r = Router();
  const user = requireUser(deps);

  r.get("/api/posts", user, async (req, res) => {
    res.json((await listPosts(deps.db, accountOf(req).id)).map(formatPost));
  });
  r.post("/api/posts", user, async (req, res) => {
    const b = parseBody(schemas.create, req);
    res.status(201).json(formatPost(await createPost(deps, accountOf(req), { ...b, media: mediaOf(b) })));
  });
  r.put("/api/posts/:id", user, async (req, res) => {
    const { id } = parseParams(schemas.id, req);
    const b = parseBody(schemas.update, req);
    res.json(formatPost(await updatePost(deps, accountOf(req), id, b)));
  });
  r.delete("/api/posts/:id", user, async (req, res) => {
    const { id } = parseParams(schemas.id, req);
    await deletePost(deps, accountOf(req), id);
    res.json({ success: true });
  });
  r.post("/api/approve-post", user, async (req, res) => {
    const { postId: id } = parseBody(schemas.approve, req);
    res.json({ success: true, queued: true, post: formatPost(await approvePost(deps, accountOf(req), id)) });
  });

  r.post("/api/post", user, async (req, res) => {
    const b = parseBody(schemas.publishNow, req);
    const account = accountOf(req);
    let post: Post;
    if ("postId" in b) {
      const found = await findPost(deps.db, account.id, b.postId);
      if (!found) throw notFound("Post not found");
      if (found.status === "published") throw new HttpError(409, "post_published", "This post is already published", { success: false });
      await preflight(deps, account, found);
      post = await makeDueNow(deps, account, found);
    } else {
      // Checked before anything is stored: a refused post leaves nothing behind.
      const media = mediaOf(b);
      const candidate = { platform: b.platform, content: b.content, ...storedMedia(media), mediaType: null, subscriptionCycle: null };
      await preflight(deps, account, candidate);
      post = await createPost(deps, account, { platform: b.platform, content: b.content, media, status: "approved" });
    }
    const result = await publishRunner(deps).drain({ postIds: [post.id] });
    await answerPublish(deps, res, account, post.id, result);
  });

  const autoPost = async (account: User, res: Response) => {
    const check = await checkCanPost(deps, account, deps.clock.now());
    if (!check.ok && check.reason !== "quota_exhausted") {
      throw preflightError(409, check.reason === "cycle_ended" ? "cycle" : "quota", check.reason, check.message);
    }
    // Repair first: renew what is due, find what only a reconnect fixes (the client requires both arrays).
    const verdicts = await verifyConnections(deps, account.id, { validate: false });
    const connectionRepairs = verdicts.filter((v) => v.renewed).map((v) => `${deps.platforms[v.platform].displayName} access renewed`);
    const connectionErrors = verdicts.filter((v) => !v.valid).map((v) => v.error ?? `${deps.platforms[v.platform].displayName} is not working`);
    const result = await publishRunner(deps).drain({ userId: account.id });
    res.json({
      success: result.failed === 0 && result.paused === 0,
      postsProcessed: result.processed,
      postsPublished: result.published,
      postsFailed: result.failed + result.paused,
      connectionRepairs,
      errors: [...connectionErrors, ...result.errors],
      message: summary(result),
    });
  };
  r.post("/api/auto-post", user, async (req, res) => autoPost(accountOf(req), res));
  r.post("/api/enforce-auto-posting", user, async (req, res) => {
    parseBody(schemas.empty, req);
    await autoPost(accountOf(req), res);
  });

  r.post("/api/direct-publish", user, async (req, res) => {
    const body = parseBody(schemas.directPublish, req);
    const account = accountOf(req);
    if (body.action === "test_publish_all") {
      await limitConnectionChecks(deps, account.id);
      const verdicts = await verifyConnections(deps, account.id, { platforms: body.platforms ?? [...PLATFORMS], validate: true });
      const s = summarizeVerdicts(verdicts);
      res.json({
        success: s.invalid === 0,
        testOnly: true,
        results: verdicts.map((v) => ({ platform: v.platform, success: v.valid, needsReconnection: v.needsReconnection, ...(v.error ? { error: v.error } : {}) })),
        summary: { successCount: s.valid, failureCount: s.invalid },
        message: `Nothing was published: ${s.valid} of ${s.checked} connections work`,
      });
      return;
    }
    const total = await makeAllDue(deps, account);
    const result = await publishRunner(deps).drain({ userId: account.id });
    const quotaExceeded = [...result.outcomes.values()].some((o) => o.kind === "failed" && o.code === "quota_exhausted");
    res.json({
      success: result.failed === 0 && result.paused === 0,
      successCount: result.published,
      totalPosts: total,
      ...(quotaExceeded ? { quotaExceeded: true } : {}),
      message: summary(result),
    });
  });

  r.get("/api/platform-health", user, async (_req, res) => {
    res.json((await readHealth(deps)).map(formatHealth));
  });
  return r;
}

/**
 * The post's media from mediaUrl (one) or mediaUrls (several). Both at once
 * is refused rather than guessed at (is mediaUrl one more item, or the same?).
 */
function mediaOf(b: { mediaUrl?: string; mediaUrls?: string[] }): string[] {
  if (b.mediaUrl !== undefined && b.mediaUrls !== undefined) {
    const message = "give either mediaUrl (one media) or mediaUrls (several), not both";
    throw badRequest("invalid_request", `Invalid body: mediaUrl, mediaUrls: ${message}`, [{ path: "mediaUrl", message }, { path: "mediaUrls", message }]);
  }
  return b.mediaUrls ?? (b.mediaUrl ? [b.mediaUrl] : []);
}

function summary(r: DrainResult): string {
  if (r.processed === 0) return "No approved posts are due";
  const parts = [`${r.published} of ${r.processed} published`];
  if (r.failed) parts.push(`${r.failed} failed`);
  if (r.paused) parts.push(`${r.paused} paused until you reconnect`);
  if (r.retried + r.unknown) parts.push(`${r.retried + r.unknown} will be retried`);
  return parts.join(", ");
}

async function answerPublish(deps: Deps, res: Response, account: User, id: number, result: DrainResult): Promise<void> {
  const post = await findPost(deps.db, account.id, id);
  // Deleted while it was being published (e.g. with the account): nothing left to report on.
  if (!post) throw new HttpError(404, "not_found", "Post not found: it was deleted while it was being published", { success: false });
  const o = result.outcomes.get(id);
  if (o?.kind === "published") {
    res.json({ success: true, post: formatPost(post), platformPostId: o.platformPostId });
    return;
  }
  if (o?.kind === "failed") {
    const status = o.code === "quota_exhausted" ? 429 : o.check === "cycle" ? 409 : 422;
    throw new HttpError(status, o.code, o.message, { success: false, check: o.check, post: formatPost(post), ...(status === 429 ? { quotaExceeded: true } : {}) });
  }
  if (o?.kind === "paused") {
    throw new HttpError(409, o.code, o.message, { success: false, check: "token", requiresReconnection: true, post: formatPost(post) });
  }
  // Retried later or being checked with the platform: accepted, not done.
  res.status(202).json({ success: false, queued: true, post: formatPost(post), message: o && "message" in o ? o.message : "Queued for publishing" });
}

const drainAnswer = z.strictObject({
  success: z.boolean(),
  postsProcessed: z.number().int(),
  postsPublished: z.number().int(),
  postsFailed: z.number().int(),
  connectionRepairs: z.array(z.string()),
  errors: z.array(z.string()),
  message: z.string(),
});
const autoPostDoc = { errors: [409], responses: { 200: { description: "What the runner did with the user's due posts", schema: drainAnswer } } };

/** The contract of these routes (server/http/contract.ts). */
export const postsApi: ApiRoute[] = [
  { method: "get", path: "/api/posts", tag: "posts", auth: "session", summary: "The user's posts", responses: { 200: { description: "Posts", schema: z.array(postSchema) } } },
  {
    method: "post", path: "/api/posts", tag: "posts", auth: "session", summary: "Create a post (draft or approved)", body: schemas.create, errors: [409],
    responses: { 201: { description: "Created", schema: postSchema } },
  },
  {
    method: "put", path: "/api/posts/:id", tag: "posts", auth: "session", summary: "Edit a post", params: schemas.id, body: schemas.update, errors: [404, 409],
    responses: { 200: { description: "Updated", schema: postSchema } },
  },
  {
    method: "delete", path: "/api/posts/:id", tag: "posts", auth: "session", summary: "Delete a post", params: schemas.id, errors: [404, 409],
    responses: { 200: { description: "Deleted", schema: successOnly } },
  },
  {
    method: "post", path: "/api/approve-post", tag: "posts", auth: "session", summary: "Approve a post for publishing at its time", body: schemas.approve, errors: [404, 409],
    responses: { 200: { description: "Approved", schema: z.strictObject({ success: z.literal(true), queued: z.literal(true), post: postSchema }) } },
  },
  {
    method: "post", path: "/api/post", tag: "posts", auth: "session", summary: "Publish a post now (an existing one, or new content)", body: schemas.publishNow, errors: [404, 409, 422, 429],
    description: "Errors carry success:false, check, post (and requiresReconnection or quotaExceeded) beside the envelope.",
    responses: {
      200: { description: "Published", schema: z.strictObject({ success: z.literal(true), post: postSchema, platformPostId: z.string() }) },
      202: { description: "Not done yet: retried later or being checked with the platform", schema: z.strictObject({ success: z.literal(false), queued: z.literal(true), post: postSchema, message: z.string() }) },
    },
  },
  { method: "post", path: "/api/auto-post", tag: "posts", auth: "session", summary: "Publish the user's due approved posts now", ...autoPostDoc },
  { method: "post", path: "/api/enforce-auto-posting", tag: "posts", auth: "session", summary: "Same as /api/auto-post", body: schemas.empty, ...autoPostDoc },
  {
    method: "post", path: "/api/direct-publish", tag: "posts", auth: "session", summary: "Make every approved post due now and publish them", body: schemas.directPublish,
    responses: {
      200: {
        description: "What was published",
        schema: z.strictObject({ success: z.boolean(), successCount: z.number().int(), totalPosts: z.number().int(), quotaExceeded: z.literal(true).optional(), message: z.string() }),
      },
    },
  },
  { method: "get", path: "/api/platform-health", tag: "posts", auth: "session", summary: "Each platform's circuit breaker", responses: { 200: { description: "Health", schema: z.array(healthSchema) } } },
];
