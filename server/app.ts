// createApp(deps): middleware and routers, no listen (tests mount it).
import express, { type Express } from "express";
import type { Deps } from "./deps.ts";
import { accountRoutes } from "./account/routes.ts";
import { authRoutes } from "./auth/routes.ts";
import { connectPageRoutes } from "./connections/connect-page.ts";
import { connectRoutes } from "./connections/connect-routes.ts";
import { connectionRoutes } from "./connections/routes.ts";
import { checkRoutes } from "./connections/check-routes.ts";
import { clientConnectionRoutes } from "./connections/client-routes.ts";
import { onboardingRoutes } from "./onboarding/routes.ts";
import { giftTrackerRoutes } from "./onboarding/gift-tracker.ts";
import { subscriptionStreams, type SubscriptionStreams } from "./subscription/stream.ts";
import { giftRoutes } from "./onboarding/gift-routes.ts";
import { quotaRoutes } from "./quota/routes.ts";
import { postRoutes } from "./posts/routes.ts";
import { billingRoutes, stripeWebhookRoutes } from "./billing/routes.ts";
import { brandRoutes } from "./brand/routes.ts";
import { contentRoutes } from "./content/routes.ts";
import { eventRoutes } from "./events/routes.ts";
import { errorHandler, HttpError, notFoundApi, sendError } from "./http/errors.ts";
import { healthRoutes } from "./http/health.ts";
import { contractRoutes } from "./http/contract.ts";
import { requestLogging } from "./http/request-log.ts";
import { metricsRoutes } from "./ops/metrics.ts";
import { requireOpsToken } from "./http/ops-auth.ts";
import { createSandbox } from "./platforms/sandbox/index.ts";
import { canonicalLoopbackPages, jsonBody, requireJsonBodies, safePaths, sameOriginWrites, securityHeaders } from "./http/security.ts";
import { spaRoutes } from "./http/spa.ts";
import { createSessions, idleTimeout, type SessionHandle } from "./http/session.ts";

export interface App {
  app: Express;
  sessions: SessionHandle;
  /** Open subscription event streams; closed before the HTTP server (they would keep it open). */
  streams: SubscriptionStreams;
}

export function createApp(deps: Deps): App {
  const { config } = deps;
  const app = express();
  app.set("trust proxy", config.trustProxy);
  app.disable("x-powered-by");

  app.use(requestLogging(deps.log));
  app.use(securityHeaders());
  app.use(safePaths);
  app.use(healthRoutes(deps));
  app.use(metricsRoutes(deps));
  app.use(contractRoutes());
  // The fake platforms, before the JSON-only guard: OAuth token endpoints and consent forms are form-encoded.
  if (config.platforms.mode === "sandbox") {
    // In production (ALLOW_SANDBOX_IN_PRODUCTION=true) the control API would let anyone change what every
    // user's "platform" does: operators only (OPS_TOKEN; without one it answers 404). Open in development and tests.
    if (config.production) app.use("/sandbox/_control", requireOpsToken(deps));
    app.use("/sandbox", createSandbox({ clock: deps.clock, appUrl: config.publicUrl, stripeWebhookSecret: config.billing.webhookSecret }).router);
  }
  // The one hole in the Origin and JSON guards: exactly POST /api/webhooks/stripe (raw body, signature-checked).
  app.use(stripeWebhookRoutes(deps));

  const sessions = createSessions(config, deps.database.pool, deps.db);
  app.use(sameOriginWrites(config.allowedOrigins));
  if (config.allowedOrigins.length > 1) app.use(canonicalLoopbackPages(config.publicUrl, config.allowedOrigins));
  app.use(requireJsonBodies);
  app.use(jsonBody());
  app.use(sessions.middleware);
  app.use(idleTimeout(config, deps.clock));

  app.use(authRoutes(deps));
  app.use(connectRoutes(deps));
  app.use(connectionRoutes(deps));
  app.use(checkRoutes(deps));
  app.use(connectPageRoutes(deps));
  app.use(onboardingRoutes(deps));
  app.use(quotaRoutes(deps));
  app.use(postRoutes(deps));
  app.use(billingRoutes(deps));
  app.use(brandRoutes(deps));
  app.use(contentRoutes(deps));
  app.use(eventRoutes(deps));
  app.use(clientConnectionRoutes(deps));
  app.use(accountRoutes(deps));
  app.use(giftTrackerRoutes(deps));
  const streams = subscriptionStreams(deps, { pingMs: config.sse.pingMs });
  app.use(streams.router);
  app.use(giftRoutes(deps));

  app.use("/api", notFoundApi);
  // The React client's build: its files, and index.html for any page loaded directly (spa.ts).
  if (config.staticDir) app.use(spaRoutes(config.staticDir));
  // Anything else: a plain 404 that never echoes the path.
  app.use((_req, res) => sendError(res, new HttpError(404, "not_found", "Not found")));
  app.use(errorHandler(deps.log));
  return { app, sessions, streams };
}
