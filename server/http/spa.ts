// Serves the React client's production build from STATIC_DIR as an app: its
// files, and index.html for every page the browser loads directly (a deep link
// such as /reset-password?token=… or /schedule), so client-side routes work.
// Paths the server itself owns never fall back to the page: an unknown /api
// path stays a JSON 404. safePaths runs before this, so no traversal reaches it.
import { join, relative, sep } from "node:path";
import express, { type RequestHandler, type Response } from "express";

/** Path prefixes the server answers itself; matched per segment, so /connect-platforms is a client route. */
export const SERVER_PREFIXES = ["/api", "/auth", "/sandbox", "/connect", "/metrics", "/healthz", "/readyz"] as const;

const ownedByServer = (path: string) => SERVER_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

// Vite writes every built file whose name carries its content hash
// (index-BnS9q2Xk.js) into assets/, and copies public/ files (favicon, robots.txt)
// to the root unhashed: the first can be cached forever, the rest must be revalidated.
const FOREVER = "public, max-age=31536000, immutable";

function cacheHeaders(staticDir: string) {
  return (res: Response, filePath: string): void => {
    const rel = relative(staticDir, filePath).split(sep).join("/");
    if (rel === "index.html") res.setHeader("Cache-Control", "no-store");
    else if (rel.startsWith("assets/")) res.setHeader("Cache-Control", FOREVER);
    else res.setHeader("Cache-Control", "no-cache");
  };
}

/** A browser navigating to a page asks for HTML first; scripts, images and fetch() do not. */
const isPageRequest = (accept: string | undefined) => (accept ?? "").split(",").some((t) => t.trim().startsWith("text/html"));

export function spaRoutes(staticDir: string): RequestHandler[] {
  const files = express.static(staticDir, { dotfiles: "deny", index: "index.html", redirect: false, setHeaders: cacheHeaders(staticDir) });
  const indexFile = join(staticDir, "index.html");
  const fallback: RequestHandler = (req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || ownedByServer(req.path) || !isPageRequest(req.get("accept"))) return next();
    res.setHeader("Cache-Control", "no-store");
    res.sendFile(indexFile, (err) => (err ? next() : undefined));
  };
  return [files, fallback];
}
