// The contract the frontend depends on, served by the service itself:
// GET /api/openapi.json (generated from every domain's ApiRoute declarations)
// and GET /api/docs, a Swagger UI page served from node_modules (no CDN, so it
// works offline and under the default CSP: scripts and styles from 'self').
// A new route is covered by one declaration in its domain's ApiRoute[] and,
// for a new domain, one line in API_ROUTES below (tests/ops/openapi.test.ts
// fails for any mounted route missing here).
import express, { Router } from "express";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { z } from "zod";
import { authApi } from "../auth/routes.ts";
import { checkApi } from "../connections/check-routes.ts";
import { connectPageApi } from "../connections/connect-page.ts";
import { connectApi } from "../connections/connect-routes.ts";
import { connectionsApi } from "../connections/routes.ts";
import { onboardingApi } from "../onboarding/routes.ts";
import { giftApi } from "../onboarding/gift-routes.ts";
import { billingApi } from "../billing/routes.ts";
import { brandApi } from "../brand/routes.ts";
import { contentApi } from "../content/routes.ts";
import { eventsApi } from "../events/routes.ts";
import { accountApi } from "../account/routes.ts";
import { clientConnectionsApi } from "../connections/client-routes.ts";
import { giftTrackerApi } from "../onboarding/gift-tracker.ts";
import { subscriptionStreamApi } from "../subscription/stream.ts";
import { metricsApi } from "../ops/metrics.ts";
import { postsApi } from "../posts/routes.ts";
import { quotaApi } from "../quota/routes.ts";
import { healthApi } from "./health.ts";
import { buildOpenApi, type ApiRoute } from "./openapi.ts";

const contractApi: ApiRoute[] = [
  {
    method: "get", path: "/api/openapi.json", tag: "contract", summary: "This OpenAPI 3.1 document",
    responses: { 200: { description: "The contract", schema: z.looseObject({ openapi: z.string() }) } },
  },
  { method: "get", path: "/api/docs", tag: "contract", summary: "A readable reference page of this document (Swagger UI)", responses: { 200: { description: "The page", contentType: "text/html" } } },
  { method: "get", path: "/api/docs/init.js", tag: "contract", summary: "The reference page's start-up script", responses: { 200: { description: "JavaScript", contentType: "text/javascript" } } },
];

/** Every documented route. The sandbox (/sandbox) is a fake platform, not our API, and is left out on purpose. */
export const API_ROUTES: ApiRoute[] = [
  ...healthApi,
  ...metricsApi,
  ...contractApi,
  ...authApi,
  ...onboardingApi,
  ...connectApi,
  ...connectPageApi,
  ...connectionsApi,
  ...checkApi,
  ...quotaApi,
  ...postsApi,
  ...giftApi,
  ...billingApi,
  ...brandApi,
  ...contentApi,
  ...eventsApi,
  ...accountApi,
  ...clientConnectionsApi,
  ...giftTrackerApi,
  ...subscriptionStreamApi,
];

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
let built: unknown;
export const openApiDocument = () => (built ??= buildOpenApi(API_ROUTES, { version }));

const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AgencyIQ API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;

// A file, not an inline script: the default CSP (script-src 'self') then needs no exception.
const INIT = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

export function contractRoutes(): Router {
  const r = Router();
  r.get("/api/openapi.json", (_req, res) => {
    res.json(openApiDocument());
  });
  r.get("/api/docs", (_req, res) => {
    res.type("html").send(PAGE);
  });
  r.get("/api/docs/init.js", (_req, res) => {
    res.type("text/javascript").send(INIT);
  });
  r.use("/api/docs/assets", express.static(swaggerDir, { index: false, dotfiles: "deny", redirect: false }));
  return r;
}
