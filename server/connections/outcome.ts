// The page the OAuth callback answers. In a popup it posts "oauth_success" or
// "oauth_failure" to window.opener with OUR origin as the target, then closes;
// without an opener it goes to /connect. It loads nothing from elsewhere and
// sends no referrer (the URL held the authorization code).
import { randomBytes } from "node:crypto";
import type { Response } from "express";
import { escapeHtml } from "../http/html.ts";

export type Outcome = "oauth_success" | "oauth_failure";

export function setPageSecurityHeaders(res: Response, nonce: string): void {
  res.setHeader(
    "Content-Security-Policy",
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cache-Control", "no-store");
}

export function sendOutcomePage(res: Response, opts: { origin: string; outcome: Outcome; next: string; text: string }): void {
  const nonce = randomBytes(16).toString("base64");
  setPageSecurityHeaders(res, nonce);
  res.type("html").send(`<!doctype html>
<html><head><meta charset="utf-8"><title>AgencyIQ</title></head>
<body><p>${escapeHtml(opts.text)}</p><p><a href="${escapeHtml(opts.next)}">Continue</a></p>
<script nonce="${nonce}">
(function () {
  var message = ${JSON.stringify(opts.outcome)};
  if (window.opener && !window.opener.closed) {
    window.opener.postMessage(message, ${JSON.stringify(opts.origin)});
    window.close();
  } else {
    window.location.replace(${JSON.stringify(opts.next)});
  }
})();
</script></body></html>`);
}
