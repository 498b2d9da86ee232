// API shapes, built field by field (a row is never spread into a response).
import { z } from "zod";
import { PLATFORMS, POST_STATUSES, type Post } from "../../shared/schema.ts";
import { isoDate } from "../http/openapi.ts";
import type { PlatformHealth } from "./health.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function formatPost(p: Post) {
  const a = (p.analytics ?? {}) as { reach?: number; engagement?: number; impressions?: number };
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
    mediaUrl: p.mediaUrl,
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
  };
}

export function formatHealth(h: PlatformHealth) {
  return { platform: h.platform, healthy: h.healthy, state: h.state, lastError: h.lastError, retryAt: iso(h.retryAt) };
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
  platformPostId: z.string().nullable(),
  attemptCount: z.number().int(),
  nextAttemptAt: isoDate.nullable(),
  generatedBy: z.string().nullable(),
  strategicTheme: z.string().nullable(),
  businessCanvasPhase: z.string().nullable(),
  engagementOptimisation: z.string().nullable(),
  localEvent: z.string().nullable(),
});
export const healthSchema = z.strictObject({
  platform: z.enum(PLATFORMS),
  healthy: z.boolean(),
  state: z.enum(["closed", "open", "half_open"]),
  lastError: z.string().nullable(),
  retryAt: isoDate.nullable(),
});
