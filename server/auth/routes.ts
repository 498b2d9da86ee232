// Session and auth endpoints of API.md.
import { Router, type Request } from "express";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { parseBody } from "../http/validate.ts";
import { destroySession, logIn, publicSessionId, saveSession } from "../http/session.ts";
import { countActiveConnections } from "../connections/queries.ts";
import { phoneField } from "../onboarding/phone.ts";
import { accountOf, requireUser } from "./middleware.ts";
import { knownDevice, rememberDevice } from "./device.ts";
import { formatSessionUser, formatUser, sessionUserSchema, userSchema } from "./format.ts";
import { successOnly, type ApiRoute } from "../http/openapi.ts";
import { findUserById } from "./queries.ts";
import { login, signup } from "./service.ts";

export const emailField = z.string().trim().toLowerCase().pipe(z.email({ message: "must be a valid email address" })).pipe(z.string().max(254));
export const passwordField = z.string().min(8, "must be at least 8 characters").max(128, "must be at most 128 characters");

const signupBody = z.strictObject({ email: emailField, password: passwordField, phone: phoneField });
const loginBody = z
  .strictObject({ email: emailField.optional(), phone: phoneField.optional(), password: z.string().min(1).max(128) })
  .refine((b) => (b.email === undefined) !== (b.phone === undefined), {
    message: "give exactly one of email or phone",
    path: ["email"],
  });
const emptyBody = z.strictObject({});

export function authRoutes(deps: Deps): Router {
  const r = Router();
  const mustBeUser = requireUser(deps);

  async function sessionStatus(req: Request) {
    const user = req.session?.userId ? await findUserById(deps.db, req.session.userId) : undefined;
    return {
      authenticated: Boolean(user),
      sessionId: publicSessionId(req),
      userId: user?.id ?? null,
      userEmail: user?.email ?? null,
      user: user ? formatSessionUser(user) : null,
    };
  }

  async function establish(req: Request) {
    parseBody(emptyBody, req);
    // Marking the session makes express-session store it and set the cookie.
    req.session.establishedAt ??= deps.clock.now().getTime();
    await saveSession(req);
    return sessionStatus(req);
  }

  // The client sends the browser here (a full page load) whenever nobody is
  // logged in, and expects to land on its own /login page.
  r.get("/api/login", (_req, res) => {
    res.status(302).location("/login").json({ redirectTo: "/login" });
  });

  r.get("/api/auth/session", async (req, res) => {
    res.json(await sessionStatus(req));
  });
  r.post("/api/auth/establish-session", async (req, res) => {
    res.json(await establish(req));
  });
  r.post("/api/establish-session", async (req, res) => {
    res.json(await establish(req));
  });

  r.post("/api/auth/signup", async (req, res) => {
    const body = parseBody(signupBody, req);
    const user = await signup(deps, body, req.ip ?? "unknown", req.session?.verifiedPhone);
    await logIn(req, user.id, deps.clock.now());
    deps.log.info({ userId: user.id }, "User signed up");
    res.status(201).json({ user: formatUser(user) });
  });

  r.post("/api/auth/login", async (req, res) => {
    const body = parseBody(loginBody, req);
    const user = await login(deps, body, req.ip ?? "unknown", (userId) => knownDevice(req, deps.config, userId));
    await logIn(req, user.id, deps.clock.now());
    rememberDevice(req, res, deps.config, user.id);
    res.json({ user: formatUser(user) });
  });

  r.post("/api/auth/logout", async (req, res) => {
    parseBody(emptyBody, req);
    if (req.session) await destroySession(req);
    res.clearCookie(deps.config.session.cookieName, { path: "/" });
    res.json({ success: true });
  });

  r.get("/api/user", mustBeUser, (req, res) => {
    res.json(formatUser(accountOf(req)));
  });

  r.get("/api/user-status", mustBeUser, async (req, res) => {
    const user = accountOf(req);
    res.json({
      hasActiveSubscription: user.subscriptionActive,
      userType: user.subscriptionActive ? "subscriber" : "free",
      hasBrandSetup: user.hasBrandSetup,
      hasConnections: (await countActiveConnections(deps.db, user.id)) > 0,
    });
  });

  return r;
}

const sessionStatusSchema = z.strictObject({
  authenticated: z.boolean(),
  sessionId: z.string().nullable(),
  userId: z.number().int().nullable(),
  userEmail: z.string().nullable(),
  user: sessionUserSchema.nullable(),
});
const establishDoc = { body: emptyBody, responses: { 200: { description: "The session, now stored (sets the cookie)", schema: sessionStatusSchema } } };

/** The contract of these routes (server/http/contract.ts). */
export const authApi: ApiRoute[] = [
  {
    method: "get", path: "/api/login", tag: "auth", summary: "Where the client sends a logged-out browser: to its /login page",
    responses: { 302: { description: "To /login", schema: z.strictObject({ redirectTo: z.literal("/login") }) } },
  },
  { method: "get", path: "/api/auth/session", tag: "auth", summary: "Session status", responses: { 200: { description: "Who this cookie belongs to", schema: sessionStatusSchema } } },
  { method: "post", path: "/api/auth/establish-session", tag: "auth", summary: "Create the session cookie before any login", ...establishDoc },
  { method: "post", path: "/api/establish-session", tag: "auth", summary: "Same as /api/auth/establish-session (older path)", ...establishDoc },
  {
    method: "post", path: "/api/auth/signup", tag: "auth", summary: "Create an account and log in",
    description: "The phone must have been verified with /api/verify-code in the same cookie session (unless REQUIRE_PHONE_VERIFICATION=false).",
    body: signupBody, errors: [409, 429],
    responses: { 201: { description: "Signed up and logged in (new session id)", schema: z.strictObject({ user: userSchema }) } },
  },
  {
    method: "post", path: "/api/auth/login", tag: "auth", summary: "Log in with email or phone and password", body: loginBody, errors: [401, 429],
    responses: { 200: { description: "Logged in (new session id)", schema: z.strictObject({ user: userSchema }) } },
  },
  { method: "post", path: "/api/auth/logout", tag: "auth", summary: "Log out (deletes the session)", body: emptyBody, responses: { 200: { description: "Logged out", schema: successOnly } } },
  { method: "get", path: "/api/user", tag: "auth", auth: "session", summary: "The logged-in user", responses: { 200: { description: "The user", schema: userSchema } } },
  {
    method: "get", path: "/api/user-status", tag: "auth", auth: "session", summary: "What the user has set up",
    responses: {
      200: {
        description: "Subscription, brand and connection flags",
        schema: z.strictObject({ hasActiveSubscription: z.boolean(), userType: z.enum(["subscriber", "free"]), hasBrandSetup: z.boolean(), hasConnections: z.boolean() }),
      },
    },
  },
];
