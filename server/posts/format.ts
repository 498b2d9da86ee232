// API shapes, built field by field (a row is never spread into a response).
import { z } from "zod";
import { PLATFORMS, POST_STATUSES, type Post } from "../../shared/schema.ts";
import { isoDate } from "../http/openapi.ts";
import { mediaListOf } from "../platforms/base.ts";
import type { PlatformHealth } from "./health.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function formatPost(p: Post) {
  const a = (p.analytics ?? {}) as { reach?: number; engagement?: number; impressions?: number };
  const state = (p.platformState ?? {}) as { visibility?: unknown; notice?: unknown; analyticsError?: unknown };
  return {
    id: p.id,
    platform: p.platform,
    content: p.content,
    status: p.status,
    scheduledFor: iso(p.scheduledFor),
    publishedAt: iso(p.publishedAt),
    errorLog: p.errorLog,
    analytics: { reach: a.reach ?? 0, engagement: a.engagement ?? 0, impressions: a.impressions ?? 0 },
    approvedAt: iso(p.approvedAt),
    edited: p.edited,
    editedAt: iso(p.editedAt),
    // The first media (what the React client shows), and (new) every media in order: [] without media.
    mediaUrl: p.mediaUrl,
    mediaUrls: mediaListOf(p),
    platformPostId: p.platformPostId,
    // (new) what the runner is doing with it
    attemptCount: p.attemptCount,
    nextAttemptAt: iso(p.nextAttemptAt),
    // (new) what the schedule page shows beside a generated post (null for posts a person wrote)
    generatedBy: p.generatedBy,
    strategicTheme: p.strategicTheme,
    businessCanvasPhase: p.businessCanvasPhase,
    engagementOptimisation: p.engagementOptimisation,
    localEvent: p.localEvent,
    // (new) what the platform decided beside the id: YouTube may make an upload private ("private" + a notice).
    visibility: typeof state.visibility === "string" ? state.visibility : null,
    platformNotice: typeof state.notice === "string" ? state.notice : null,
    // (new) why the figures are missing, when the platform refused them
    analyticsError: typeof state.analyticsError === "string" ? state.analyticsError : null,
  };
}

export function formatHealth(h: PlatformHealth) {
  return {
    platform: h.platform,
    healthy: h.healthy,
    state: h.state,
    lastError: h.lastError,
    retryAt: iso(h.retryAt),
    // (new) why it is paused: "operator" (the platform refuses this app: credits, app secret, API version) or "failures".
    pausedFor: h.state === "closed" ? null : h.operatorCode ? "operator" : "failures",
    operatorCode: h.operatorCode,
  };
}

/** The contracts of formatPost / formatHealth (OpenAPI, server/http/contract.ts). */
export const postSchema = z.strictObject({
  id: z.number().int(),
  platform: z.enum(PLATFORMS),
  content: z.string(),
  status: z.enum(POST_STATUSES),
  scheduledFor: isoDate.nullable(),
  publishedAt: isoDate.nullable(),
  errorLog: z.string().nullable(),
  analytics: z.strictObject({ reach: z.number(), engagement: z.number(), impressions: z.number() }),
  approvedAt: isoDate.nullable(),
  edited: z.boolean(),
  editedAt: isoDate.nullable(),
  mediaUrl: z.string().nullable(),
  mediaUrls: z.array(z.string()),
  platformPostId: z.string().nullable(),
  attemptCount: z.number().int(),
  nextAttemptAt: isoDate.nullable(),
  generatedBy: z.string().nullable(),
  strategicTheme: z.string().nullable(),
  businessCanvasPhase: z.string().nullable(),
  engagementOptimisation: z.string().nullable(),
  localEvent: z.string().nullable(),
  visibility: z.string().nullable(),
  platformNotice: z.string().nullable(),
  analyticsError: z.string().nullable(),
});
export const healthSchema = z.strictObject({
  platform: z.enum(PLATFORMS),
  healthy: z.boolean(),
  state: z.enum(["closed", "open", "half_open"]),
  lastError: z.string().nullable(),
  retryAt: isoDate.nullable(),
  pausedFor: z.enum(["operator", "failures"]).nullable(),
  operatorCode: z.string().nullable(),
});
