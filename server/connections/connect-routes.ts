// The browser OAuth connect flow: /auth/:platform starts it (state + PKCE in
// the session), /auth/:platform/callback finishes it. Every failure — denied
// consent, platform error, bad or replayed state, expired code — stores
// nothing, logs its cause, and ends in the failure outcome.
import { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { Platform } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { HttpError, safeError } from "../http/errors.ts";
import { parseBody, parseQuery } from "../http/validate.ts";
import { safeLine } from "../http/schemas.ts";
import { saveSession } from "../http/session.ts";
import { PlatformError } from "../platforms/errors.ts";
import { resumePausedPosts } from "../posts/complete.ts";
import { platformParam, platformPathSchema } from "./platform-param.ts";
import type { ApiRoute } from "../http/openapi.ts";
import type { NewConnection } from "../platforms/types.ts";
import { sendOutcomePage } from "./outcome.ts";
import { saveConnection } from "./service.ts";
import { createConnectPassport, strategyName, type StrategyResult } from "./strategies.ts";

type Mode = "popup" | "redirect";

declare module "express-session" {
  interface SessionData {
    /** How each platform's flow was opened, to answer its callback the same way. */
    connectModes?: Partial<Record<Platform, Mode>>;
    /** Facebook/Instagram Pages to choose from; each connection sealed by the vault. */
    pendingPages?: { platform: Platform; choices: Array<{ id: string; name: string; sealed: string }> };
  }
}

// The platform's answer (code, state, error…) belongs to /auth/<p>/callback: on the
// start path passport would act on it (an `error` other than access_denied is
// thrown as a 500, a `code` would be exchanged), so it is refused here.
const CALLBACK_ONLY = ["code", "state", "error", "error_description", "error_uri", "error_reason"] as const;
const startQuery = z
  .looseObject({
    force_reauth: z.enum(["true", "false"]).optional(),
    mode: z.enum(["popup", "redirect"]).optional(),
  })
  .superRefine((q, ctx) => {
    for (const key of CALLBACK_ONLY) {
      if (key in q) ctx.addIssue({ code: "custom", path: [key], message: "belongs to the callback, not to the start of a connection" });
    }
  });
const chooseBody = z.strictObject({ pageId: safeLine(100).min(1) });

/** Names the cause of a failed callback for the log and the failure redirect; never includes a secret. */
function failureCause(req: Request, err: unknown, info: unknown): string {
  if (req.query.error === "access_denied") return "access_denied";
  if (typeof req.query.error === "string") return "platform_error";
  if (err && typeof err === "object" && "name" in err) {
    const e = err as { name: string; code?: string };
    // X answers a dead code with invalid_request, the others with invalid_grant.
    if (e.name === "TokenError") return e.code === "invalid_grant" || e.code === "invalid_request" ? "code_rejected" : "token_error";
    if (e.name === "InternalOAuthError") return "token_exchange_failed";
  }
  if (err instanceof PlatformError) return err.code;
  const message = (info as { message?: string } | undefined)?.message ?? "";
  if (/state/i.test(message)) return "state_invalid";
  return err ? "unexpected_error" : "not_authorized";
}

export function connectRoutes(deps: Deps): Router {
  const r = Router();
  const passport = createConnectPassport(deps);
  const origin = deps.config.publicOrigin;

  function finish(req: Request, res: Response, platform: Platform, ok: boolean, reason?: string, modeNow?: Mode) {
    const mode = modeNow ?? req.session?.connectModes?.[platform] ?? "popup";
    const next = ok ? `/connect?connected=${platform}` : `/connect?error=${platform}${reason ? `&reason=${encodeURIComponent(reason)}` : ""}`;
    if (mode === "redirect") return res.redirect(302, next);
    const name = deps.platforms[platform].displayName;
    sendOutcomePage(res, {
      origin,
      outcome: ok ? "oauth_success" : "oauth_failure",
      next,
      text: ok ? `${name} is connected. You can close this window.` : `${name} could not be connected (${reason}).`,
    });
  }

  function fail(req: Request, res: Response, platform: Platform, reason: string, modeNow?: Mode) {
    deps.log.warn({ userId: req.session?.userId, platform, reason }, `OAuth failed ${platform}: ${reason}`);
    finish(req, res, platform, false, reason, modeNow);
  }

  async function startFlow(req: Request, res: Response, next: NextFunction) {
    const platform = platformParam(req);
    const query = parseQuery(startQuery, req);
    const mode = query.mode ?? "popup";
    // Decided before the session is touched: an anonymous visitor must not make us store a session row.
    if (!req.session.userId) return fail(req, res, platform, "login_required", mode);
    if (!deps.platforms[platform].enabled) return fail(req, res, platform, "platform_disabled", mode);
    req.session.connectModes = { ...req.session.connectModes, [platform]: mode };
    passport.authenticate(strategyName(platform), { session: false, forceReauth: query.force_reauth === "true" } as never)(req, res, next);
  }
  r.get("/auth/:platform", startFlow);
  r.get("/api/auth/:platform", startFlow);

  r.get("/auth/:platform/callback", (req, res, next) => {
    const platform = platformParam(req);
    const userId = req.session?.userId;
    if (!userId) return fail(req, res, platform, "login_required");
    if (!deps.platforms[platform].enabled) return fail(req, res, platform, "platform_disabled");
    passport.authenticate(strategyName(platform), { session: false }, (err: unknown, result: StrategyResult | false, info: unknown) => {
      if (err || !result) return fail(req, res, platform, failureCause(req, err, info));
      completeConnect(req, res, platform, userId, result).catch((e) => {
        // Whatever went wrong (platform error, timeout, database), the popup must hear about it.
        if (!(e instanceof PlatformError)) deps.log.error({ error: safeError(e), userId, platform }, "Connect could not be completed");
        fail(req, res, platform, e instanceof PlatformError ? e.code : deps.platforms[platform].classifyError(e).code);
      });
    })(req, res, next);
  });

  async function completeConnect(req: Request, res: Response, platform: Platform, userId: number, result: StrategyResult) {
    const shaped = await deps.platforms[platform].shapeConnection(result.tokens);
    if (shaped.kind === "choose") {
      req.session.pendingPages = {
        platform,
        choices: shaped.choices.map((c) => ({
          id: c.id,
          name: c.name,
          sealed: deps.vault.seal(JSON.stringify(c.connection), { userId, platform }, "access_token"),
        })),
      };
      await saveSession(req);
      deps.log.info({ userId, platform, pages: shaped.choices.length }, `OAuth awaiting page choice ${platform}`);
      return res.redirect(302, `/connect?choose=${platform}`);
    }
    await store(userId, platform, shaped.connection);
    finish(req, res, platform, true);
  }

  async function store(userId: number, platform: Platform, connection: NewConnection) {
    await saveConnection(deps, userId, platform, connection);
    // Posts paused because the old connection was revoked can go out now.
    const resumed = await resumePausedPosts(deps, userId, platform);
    deps.log.info({ userId, platform, resumedPosts: resumed }, `OAuth connected ${platform}`);
  }

  r.get("/api/connections/:platform/pages", (req, res) => {
    const platform = platformParam(req);
    if (!req.session?.userId) throw new HttpError(401, "not_authenticated", "Not authenticated", { requiresLogin: true });
    const pending = req.session.pendingPages;
    const pages = pending?.platform === platform ? pending.choices.map((c) => ({ id: c.id, name: c.name })) : [];
    res.json({ platform, pages });
  });

  r.post("/api/connections/:platform/choose-page", async (req, res) => {
    const platform = platformParam(req);
    const userId = req.session?.userId;
    if (!userId) throw new HttpError(401, "not_authenticated", "Not authenticated", { requiresLogin: true });
    const { pageId } = parseBody(chooseBody, req);
    const pending = req.session.pendingPages;
    const choice = pending?.platform === platform ? pending.choices.find((c) => c.id === pageId) : undefined;
    if (!choice) throw new HttpError(404, "no_pending_choice", "No pending Page choice with that id; connect again");
    const connection = JSON.parse(deps.vault.open(choice.sealed, { userId, platform }, "access_token")) as NewConnection;
    connection.expiresAt &&= new Date(connection.expiresAt);
    connection.refreshTokenExpiresAt &&= new Date(connection.refreshTokenExpiresAt);
    await store(userId, platform, connection);
    delete req.session.pendingPages;
    res.json({ success: true, platform, pageId });
  });

  return r;
}

const startDoc = {
  params: platformPathSchema, query: startQuery,
  description: "Needs a logged-in session. Redirects to the platform's consent page; the platform comes back to /auth/{platform}/callback.",
  responses: { 302: { description: "To the platform's consent page (or the failure outcome)" }, 200: { description: "The failure outcome page (popup mode)", contentType: "text/html" } },
};

/** The contract of these routes (server/http/contract.ts). */
export const connectApi: ApiRoute[] = [
  { method: "get", path: "/auth/:platform", tag: "connect", summary: "Start the browser OAuth connect flow", ...startDoc },
  { method: "get", path: "/api/auth/:platform", tag: "connect", summary: "Same as /auth/{platform} (force_reauth=true for a reconnect)", ...startDoc },
  {
    method: "get", path: "/auth/:platform/callback", tag: "connect", summary: "The platform's redirect back (code and state)", params: platformPathSchema,
    responses: {
      200: { description: "Popup mode: a page that tells window.opener oauth_success or oauth_failure and closes", contentType: "text/html" },
      302: { description: "Redirect mode, or a Page to choose: to /connect" },
    },
  },
  {
    method: "get", path: "/api/connections/:platform/pages", tag: "connect", auth: "session", summary: "Facebook/Instagram Pages waiting to be chosen", params: platformPathSchema, errors: [401],
    responses: { 200: { description: "Pages", schema: z.strictObject({ platform: z.string(), pages: z.array(z.strictObject({ id: z.string(), name: z.string() })) }) } },
  },
  {
    method: "post", path: "/api/connections/:platform/choose-page", tag: "connect", auth: "session", summary: "Connect the chosen Page", params: platformPathSchema, body: chooseBody, errors: [404],
    responses: { 200: { description: "Connected", schema: z.strictObject({ success: z.literal(true), platform: z.string(), pageId: z.string() }) } },
  },
];
