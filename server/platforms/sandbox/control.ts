// Fault control, for tests and demos: failures, latency, unanswered calls,
// revoked tokens, rate limits, the list of everything published, analytics,
// Pages, settings and a clock offset. Only ever mounted with the sandbox.
import express, { type Request, type Response, type Router } from "express";
import { z } from "zod";
import { PLATFORMS } from "../../../shared/schema.ts";
import { FAMILY_OF, ids, type SandboxState } from "./state.ts";

const platform = z.enum(PLATFORMS);
const user = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, "must be a sandbox account name");

const schemas = {
  fault: z.object({
    endpoint: z.string().min(1),
    times: z.number().int().min(1).default(1),
    mode: z.enum(["respond", "hang", "drop", "late"]).default("respond"),
    /** late: how long the request is held before it is carried out; absent = until POST /_control/release. */
    holdMs: z.number().int().min(0).max(600_000).optional(),
    status: z.number().int().min(100).max(599).default(500),
    body: z.unknown().default({ error: "sandbox fault" }),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  latency: z.object({ endpoint: z.string().min(1), ms: z.number().int().min(0).max(120_000) }),
  revoke: z.union([z.object({ token: z.string().min(1) }), z.object({ platform, user })]),
  rateLimit: z.object({ platform, user, until: z.iso.datetime({ offset: true }).optional(), seconds: z.number().int().min(0).optional() }),
  analytics: z.object({ postId: z.string().min(1), reach: z.number().int().min(0), impressions: z.number().int().min(0), engagement: z.number().int().min(0) }),
  pages: z.object({
    user,
    pages: z.array(
      z.object({
        id: z.string().regex(/^\d+$/).optional(),
        name: z.string().min(1),
        instagram: z.boolean().default(false),
        username: z.string().optional(),
        businessManaged: z.boolean().default(false),
      }),
    ),
  }),
  clock: z.object({ advanceMs: z.number().int() }),
  app: z.object({ appUrl: z.url({ protocol: /^https?$/ }) }),
  appSecret: z.object({ platform, secret: z.string().min(1) }),
  linkedinPages: z.object({ user, pages: z.array(z.object({ id: z.string().regex(/^\d+$/).optional(), name: z.string().min(1) })) }),
  settings: z.object({
    accessTtl: z.object({ metaShort: z.number(), metaLong: z.number(), linkedin: z.number(), x: z.number(), google: z.number() }).partial().optional(),
    linkedinRefreshTtl: z.number().int().min(1).optional(),
    linkedinRefreshTokens: z.boolean().optional(),
    codeTtl: z.object({ meta: z.number(), linkedin: z.number(), x: z.number(), google: z.number() }).partial().optional(),
    instagramDailyLimit: z.number().int().min(0).optional(),
    xPostsPer15Min: z.number().int().min(0).optional(),
    linkedinMemberFinder: z.boolean().optional(),
    linkedinDuplicateWindowMs: z.number().int().min(0).optional(),
    youtubeAudited: z.boolean().optional(),
    linkedinVersionLifetimeMonths: z.number().int().min(1).max(36).optional(),
    xCreditsDepleted: z.boolean().optional(),
    xUserPostsPer24Hours: z.number().int().min(0).optional(),
    igImageProcessingMs: z.number().int().min(0).optional(),
    igVideoProcessingMs: z.number().int().min(0).optional(),
    igCarouselProcessingMs: z.number().int().min(0).optional(),
    xVideoProcessingMs: z.number().int().min(0).optional(),
    xVideoProcessingError: z.string().min(1).max(200).nullable().optional(),
    carryOutOnArrival: z.boolean().optional(),
  }),
};

/** The body by a schema, or a 400 naming every problem (undefined: the answer is sent). */
export function parse<T>(schema: z.ZodType<T>, req: Request, res: Response): T | undefined {
  const r = schema.safeParse(req.body ?? {});
  if (r.success) return r.data;
  const message = r.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  res.status(400).json({ error: { code: "invalid_request", message }, message });
  return undefined;
}

export function controlRoutes(s: SandboxState): Router {
  const r = express.Router();

  r.post("/reset", (_req, res) => {
    s.reset();
    res.json({ ok: true });
  });
  r.get("/settings", (_req, res) => void res.json(s.settings));
  // The product's URL (redirect URIs, Stripe's webhook endpoint): a test starts the sandbox first, then the server.
  r.put("/app", (req, res) => {
    const b = parse(schemas.app, req, res);
    if (!b) return;
    s.setAppUrl(b.appUrl);
    res.json({ appUrl: s.appUrl });
  });
  r.put("/settings", (req, res) => {
    const b = parse(schemas.settings, req, res);
    if (!b) return;
    const { accessTtl, codeTtl, ...rest } = b;
    Object.assign(s.settings.accessTtl, accessTtl ?? {});
    Object.assign(s.settings.codeTtl, codeTtl ?? {});
    Object.assign(s.settings, rest);
    res.json(s.settings);
  });
  r.post("/faults", (req, res) => {
    const b = parse(schemas.fault, req, res);
    if (!b) return;
    s.faults.push({ endpoint: b.endpoint, remaining: b.times, mode: b.mode, status: b.status, body: b.body, headers: b.headers, holdMs: b.holdMs ?? null });
    res.status(201).json({ ok: true });
  });
  /** Carries out the "late" requests still held (the client has usually given up on them). */
  r.post("/release", (_req, res) => void res.json({ released: s.releaseLate() }));
  r.get("/held", (_req, res) => void res.json({ late: s.late.size, hanging: s.held.size, abandoned: s.abandoned }));
  r.delete("/faults", (_req, res) => {
    s.faults = [];
    s.latency.clear();
    res.json({ ok: true });
  });
  r.post("/latency", (req, res) => {
    const b = parse(schemas.latency, req, res);
    if (!b) return;
    s.latency.set(b.endpoint, b.ms);
    res.status(201).json({ ok: true });
  });
  r.post("/revoke", (req, res) => {
    const b = parse(schemas.revoke, req, res);
    if (!b) return;
    let revoked = 0;
    if ("token" in b) {
      const t = s.tokens.get(b.token);
      const rt = s.refreshTokens.get(b.token);
      if (t) ((t.revoked = true), revoked++);
      if (rt) ((rt.dead = true), revoked++);
    } else revoked = s.revokeUser(FAMILY_OF[b.platform], b.user);
    res.json({ revoked });
  });
  r.post("/rate-limit", (req, res) => {
    const b = parse(schemas.rateLimit, req, res);
    if (!b) return;
    const until = b.until ? Date.parse(b.until) : s.now() + (b.seconds ?? 900) * 1000;
    s.rateLimits.set(`${b.platform}:${b.user}`, until);
    res.json({ until: new Date(until).toISOString() });
  });
  r.get("/published", (req, res) => {
    const p = typeof req.query.platform === "string" ? req.query.platform : undefined;
    const u = typeof req.query.user === "string" ? req.query.user : undefined;
    const posts = s.published
      .filter((x) => (!p || x.platform === p) && (!u || x.user === u))
      .map((x) => ({ ...x, createdAt: new Date(x.createdAt).toISOString() }));
    res.json({ posts });
  });
  r.post("/analytics", (req, res) => {
    const b = parse(schemas.analytics, req, res);
    if (!b) return;
    s.analytics.set(b.postId, { reach: b.reach, impressions: b.impressions, engagement: b.engagement });
    res.status(201).json({ ok: true });
  });
  r.post("/pages", (req, res) => {
    const b = parse(schemas.pages, req, res);
    if (!b) return;
    const pages = b.pages.map((p, i) => {
      const id = p.id ?? ids.page(`${b.user}:${i}:${p.name}`);
      return {
        id,
        name: p.name,
        ...(p.instagram ? { instagram: { id: ids.instagram(`${b.user}:${id}`), username: p.username ?? `${b.user}_${i}_ig` } } : {}),
        ...(p.businessManaged ? { businessManaged: true } : {}),
      };
    });
    s.pages.set(b.user, pages);
    res.json({ pages });
  });
  r.post("/clock", (req, res) => {
    const b = parse(schemas.clock, req, res);
    if (!b) return;
    s.offsetMs += b.advanceMs;
    res.json({ now: new Date(s.now()).toISOString() });
  });
  r.get("/calls", (req, res) => {
    const e = typeof req.query.endpoint === "string" ? req.query.endpoint : undefined;
    const calls = s.calls.filter((c) => !e || c.endpoint === e).map((c) => ({ endpoint: c.endpoint, at: new Date(c.at).toISOString() }));
    res.json({ calls });
  });
  /** LinkedIn Pages the member administers (organizationAcls answers them). */
  r.post("/linkedin-pages", (req, res) => {
    const b = parse(schemas.linkedinPages, req, res);
    if (!b) return;
    const pages = b.pages.map((p, i) => ({ id: p.id ?? String(10_000_000 + Number(ids.page(`${b.user}:li:${i}`).slice(-7))), name: p.name }));
    s.linkedinPages.set(b.user, pages);
    res.json({ pages });
  });
  /** The platform's copy of our app secret (rotate it to see invalid_client; set it back to recover). */
  r.post("/app-secret", (req, res) => {
    const b = parse(schemas.appSecret, req, res);
    if (!b) return;
    for (const app of s.apps) if (app.family === FAMILY_OF[b.platform]) app.clientSecret = b.secret;
    res.json({ ok: true });
  });
  /** The identities a sandbox account name gets on each platform. */
  r.get("/identities/:user", (req, res) => {
    const u = user.safeParse(req.params.user);
    if (!u.success) return void res.status(400).json({ error: { code: "invalid_request", message: "user: must be a sandbox account name" }, message: "user: must be a sandbox account name" });
    res.json({
      facebookUserId: ids.facebookUser(u.data),
      pages: s.pagesOf(u.data),
      linkedinSub: ids.linkedinSub(u.data),
      xUserId: ids.xUser(u.data),
      youtubeChannelId: ids.channel(u.data),
    });
  });
  return r;
}
