// Security middleware: headers, JSON-only bodies, same-origin writes, and a
// guard that refuses traversal-shaped paths before anything resolves them.
import express, { type RequestHandler } from "express";
import helmet from "helmet";
import { HttpError, sendError } from "./errors.ts";

export const BODY_LIMIT = "100kb";

// No Cross-Origin-Opener-Policy: the OAuth popup goes page → /auth/<p> →
// platform → /auth/<p>/callback, and any COOP value that differs between two
// of those responses (redirects included) makes the browser sever
// window.opener, so the popup could no longer tell the page it is done.
// Verified in Chromium by tests/connections/browser.test.ts.
export const securityHeaders = (): RequestHandler => helmet({ crossOriginOpenerPolicy: false });

export function jsonBody(): RequestHandler {
  return express.json({ limit: BODY_LIMIT, strict: true, type: "application/json" });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * State-changing requests from a browser must come from our own origin. Browsers
 * always send Origin on POST/PUT/DELETE; a request with neither Origin nor
 * Referer is not a browser's and carries no ambient cookie risk, so it passes.
 */
export function sameOriginWrites(allowedOrigins: readonly string[]): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const source = req.get("origin") ?? refererOrigin(req.get("referer"));
    if (source !== undefined && !allowedOrigins.includes(source)) {
      return sendError(res, new HttpError(403, "forbidden_origin", "Cross-origin request refused"));
    }
    next();
  };
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return "invalid";
  }
}

/**
 * The only writes that may be multipart: file uploads, each parsed by its own
 * route with limits (multer). Exact method and path, so no other route ever
 * sees a form body. Cross-site form posts are still stopped by sameOriginWrites.
 */
const MULTIPART_ROUTES = new Set(["POST /api/upload-logo"]);

/** Bodies must be JSON: a form or text body on a write is refused with 415. */
export const requireJsonBodies: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.get("content-length") ?? 0) > 0 || req.get("transfer-encoding") !== undefined;
  if (MULTIPART_ROUTES.has(`${req.method} ${req.path}`) && req.is("multipart/form-data")) return next();
  if (!SAFE_METHODS.has(req.method) && hasBody && !req.is("application/json")) {
    return sendError(res, new HttpError(415, "unsupported_media_type", "Request bodies must be application/json"));
  }
  next();
};

/** Refuses paths that try to climb out of a folder or hide bytes (the seed's route parse leak). */
export const safePaths: RequestHandler = (req, res, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.path);
  } catch {
    return sendError(res, new HttpError(400, "bad_path", "Malformed path"));
  }
  if (decoded.includes("\0") || decoded.includes("\\") || decoded.split("/").some((s) => s === ".." || s === ".")) {
    return sendError(res, new HttpError(400, "bad_path", "Malformed path"));
  }
  next();
};

/**
 * For the few GETs that change something (they predate us and the client calls
 * them with GET): refused when a browser says the request comes from another
 * site, because SameSite=Lax cookies ride along on top-level navigations.
 * Browsers say so in Sec-Fetch-Site (same-origin from our page, none when the
 * user typed the address); older ones only in Referer. A request with neither
 * is not a browser's and carries no ambient cookie.
 */
export function sameOriginOnly(publicOrigin: string): RequestHandler {
  return (req, res, next) => {
    const site = req.get("sec-fetch-site");
    const refused = site !== undefined ? site !== "same-origin" && site !== "none" : ![undefined, publicOrigin].includes(refererOrigin(req.get("referer")));
    if (refused) return sendError(res, new HttpError(403, "forbidden_origin", "Cross-site request refused"));
    next();
  };
}

/**
 * Development only: the browser pages of the connect flow (/connect, /auth/…) on
 * the other loopback spelling of PUBLIC_URL are sent to PUBLIC_URL itself. OAuth
 * redirect URIs name PUBLIC_URL and cookies belong to one host name, so a flow
 * started on 127.0.0.1 would come back to localhost without its session.
 */
export function canonicalLoopbackPages(publicUrl: string, allowedOrigins: readonly string[]): RequestHandler {
  const canonical = new URL(publicUrl).origin;
  return (req, res, next) => {
    if (req.method !== "GET" || !(req.path === "/connect" || req.path.startsWith("/auth/"))) return next();
    const here = `${req.protocol}://${req.get("host")}`;
    if (here === canonical || !allowedOrigins.includes(here)) return next();
    res.redirect(302, canonical + req.originalUrl);
  };
}
