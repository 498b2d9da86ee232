// GET /connect: a small server-rendered page (no build step) listing the five
// platforms with their status and Connect / Reconnect / Disconnect buttons.
// Refresh failures send users here; the frontend's popups land here too.
import { randomBytes } from "node:crypto";
import { Router } from "express";
import { PLATFORMS } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { escapeHtml } from "../http/html.ts";
import { findUserById } from "../auth/queries.ts";
import { parsePlatform } from "../platforms/registry.ts";
import { formatConnection } from "./format.ts";
import { setPageSecurityHeaders } from "./outcome.ts";
import { listConnections } from "./service.ts";
import type { ApiRoute } from "../http/openapi.ts";

const STATUS_TEXT: Record<string, string> = {
  connected: "Connected",
  refreshing: "Connected (refreshing)",
  needs_reconnect: "Needs reconnect",
  disconnected: "Not connected",
};

// Runs in the page: popups for connect, JSON for disconnect and Page choice,
// and the opener message when this page is itself a popup.
const SCRIPT = `
document.addEventListener("click", async function (e) {
  var b = e.target.closest("button[data-action]");
  if (!b) return;
  var p = b.dataset.platform;
  if (b.dataset.action === "connect") {
    var w = window.open("/auth/" + p + (b.dataset.force ? "?force_reauth=true" : ""), "oauth_" + p, "width=600,height=720");
    if (!w) location.href = "/auth/" + p + "?mode=redirect";
  } else if (b.dataset.action === "disconnect") {
    await fetch("/api/disconnect-platform", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ platform: p }) });
    location.replace("/connect");
  } else if (b.dataset.action === "choose") {
    var r = await fetch("/api/connections/" + p + "/choose-page", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pageId: b.dataset.page }) });
    var ok = r.ok;
    if (window.opener && !window.opener.closed) { window.opener.postMessage(ok ? "oauth_success" : "oauth_failure", location.origin); window.close(); }
    else location.replace(ok ? "/connect?connected=" + p : "/connect?error=" + p);
  }
});
document.addEventListener("submit", async function (e) {
  if (e.target.id !== "login") return;
  e.preventDefault();
  var f = new FormData(e.target);
  var r = await fetch("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: f.get("email"), password: f.get("password") }) });
  if (r.ok) location.replace("/connect");
  else document.getElementById("login-error").textContent = (await r.json()).error;
});
window.addEventListener("message", function (e) {
  if (e.origin !== location.origin) return;
  if (e.data === "oauth_success" || e.data === "oauth_failure") location.replace("/connect");
});`;

export function connectPageRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/connect", async (req, res) => {
    const nonce = randomBytes(16).toString("base64");
    setPageSecurityHeaders(res, nonce);
    const user = req.session?.userId ? await findUserById(deps.db, req.session.userId) : undefined;
    const q = req.query;
    const notice = (name: unknown, text: string) => {
      const platform = typeof name === "string" ? parsePlatform(name) : null;
      return platform ? `<p class="notice" id="notice">${escapeHtml(text.replace("%s", deps.platforms[platform].displayName))}</p>` : "";
    };
    let body: string;
    if (!user) {
      // Without the frontend (no STATIC_DIR) this is the only place a browser can log in: the README's walkthrough uses it.
      body = `<form id="login"><p id="login-required">Log in to AgencyIQ to connect your accounts.</p>
<label>Email <input name="email" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button> <span id="login-error" role="alert"></span></form>`;
    } else {
      const now = deps.clock.now();
      const rows = new Map((await listConnections(deps, user.id)).map((row) => [row.platform, formatConnection(row, now, deps.config.tokens.refreshMarginMs)]));
      const pending = req.session.pendingPages;
      const choices = pending
        ? `<section id="choose"><h2>Choose the ${escapeHtml(deps.platforms[pending.platform].displayName)} Page to connect</h2>${pending.choices
            .map((c) => `<button data-action="choose" data-platform="${pending.platform}" data-page="${escapeHtml(c.id)}">${escapeHtml(c.name)}</button>`)
            .join(" ")}</section>`
        : "";
      const items = PLATFORMS.map((p) => {
        const adapter = deps.platforms[p];
        const c = rows.get(p);
        const status = c?.status ?? "disconnected";
        const focus = q.platform === p ? " focus" : "";
        const buttons = !adapter.enabled
          ? `<em>Unavailable: ${escapeHtml(adapter.disabledReason ?? "not configured")}</em>`
          : status === "disconnected"
            ? `<button data-action="connect" data-platform="${p}">Connect</button>`
            : `<button data-action="connect" data-force="1" data-platform="${p}">Reconnect</button> <button data-action="disconnect" data-platform="${p}">Disconnect</button>`;
        const who = c?.platformUsername && status !== "disconnected" ? ` — ${escapeHtml(c.platformUsername)}` : "";
        return `<li class="platform${focus}" id="platform-${p}" data-status="${status}"><strong>${escapeHtml(adapter.displayName)}</strong>: <span class="status">${STATUS_TEXT[status]}</span>${who} ${buttons}</li>`;
      }).join("\n");
      body = `${choices}<ul>${items}</ul>`;
    }
    res.type("html").send(`<!doctype html>
<html><head><meta charset="utf-8"><title>Connect your accounts — AgencyIQ</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto}li{margin:.6rem 0}.focus{background:#fff6d5}.notice{padding:.5rem;background:#eef}</style></head>
<body><h1>Connect your accounts</h1>
${notice(q.connected, "%s is connected.")}${notice(q.error, "%s could not be connected. Please try again.")}
${body}
<script nonce="${nonce}">${SCRIPT}</script></body></html>`);
  });
  return r;
}

/** The contract of this route (server/http/contract.ts). */
export const connectPageApi: ApiRoute[] = [
  {
    method: "get", path: "/connect", tag: "connect", summary: "Server-rendered page: the five platforms with Connect / Reconnect / Disconnect",
    responses: { 200: { description: "The page", contentType: "text/html" } },
  },
];
