// The platform sandbox: one Express router that behaves like Facebook,
// Instagram, LinkedIn, X and YouTube for OAuth and publishing, mounted at
// /sandbox in sandbox mode or served standalone on its own port (tests,
// `npm run sandbox`).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from "express";
import { systemClock, type Clock } from "../../deps.ts";
import { controlRoutes } from "./control.ts";
import { googleRoutes, mediaRoutes } from "./google.ts";
import { graphRoutes } from "./graph.ts";
import { linkedinRoutes } from "./linkedin.ts";
import { llmRoutes } from "./llm.ts";
import { authorizeRoutes, tokenRoutes } from "./oauth.ts";
import { SandboxState } from "./state.ts";
import { xRoutes } from "./x.ts";
import { stripeSandbox } from "./stripe/index.ts";

export { SandboxState } from "./state.ts";

export interface SandboxOptions {
  clock?: Clock;
  /** The product's PUBLIC_URL: `${appUrl}/auth/<platform>/callback` are the registered redirect URIs. */
  appUrl: string;
  /** The webhook signing secret the Stripe imitation signs with (STRIPE_WEBHOOK_SECRET; a fixed one by default). */
  stripeWebhookSecret?: string;
}

function under(prefixes: string[], routes: Router): RequestHandler {
  return (req, res, next) => (prefixes.some((p) => req.path.startsWith(p)) ? routes(req, res, next) : next());
}

export function createSandbox(options: SandboxOptions): { router: Router; state: SandboxState } {
  const state = new SandboxState(options.clock ?? systemClock, options.appUrl);
  const router = express.Router();
  // Token endpoints and consent forms are form-encoded; APIs speak JSON.
  router.use(express.urlencoded({ extended: false, limit: "1mb" }));
  router.use(express.json({ limit: "1mb" }));
  // Each platform's API only sees its own paths, and first: the calls that come by the thousand
  // (publishing) are not matched against every OAuth and control route before theirs.
  router.use(under(["/graph/"], graphRoutes(state)));
  router.use(under(["/linkedin-api/"], linkedinRoutes(state)));
  router.use(under(["/x-api/"], xRoutes(state)));
  router.use(under(["/googleapis/"], googleRoutes(state)));
  router.use(mediaRoutes());
  router.use(under(["/stripe/", "/_control/stripe/"], stripeSandbox(state, { webhookSecret: options.stripeWebhookSecret }).router));
  router.use(under(["/llm/"], llmRoutes(state)));
  router.use("/_control", controlRoutes(state));
  router.use(authorizeRoutes(state));
  router.use(tokenRoutes(state));
  router.use((_req, res) => void res.status(404).json({ error: { code: "not_found", message: "No such sandbox endpoint" }, message: "No such sandbox endpoint" }));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (res.headersSent) return;
    const status = typeof err?.status === "number" && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: { code: status === 500 ? "sandbox_error" : "bad_request", message: status === 500 ? "Sandbox failure" : String(err.message) } });
  };
  router.use(onError);
  return { router, state };
}

export interface RunningSandbox {
  url: string;
  state: SandboxState;
  server: Server;
  close(): Promise<void>;
}

/** Serves the sandbox alone on a port (0: any free port). */
export async function startSandbox(options: SandboxOptions & { port?: number; host?: string }): Promise<RunningSandbox> {
  const { router, state } = createSandbox(options);
  const app = express();
  app.disable("x-powered-by");
  // Platform APIs answer without ETags; computing one hashes every answer.
  app.set("etag", false);
  app.use(router);
  const server = await new Promise<Server>((resolve, reject) => {
    // Express 5 calls back with the listen error (a port in use) instead of emitting it.
    const s = app.listen(options.port ?? 0, options.host ?? "127.0.0.1", (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    state,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        state.releaseHeld();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
