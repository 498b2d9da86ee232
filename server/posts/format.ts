// API shapes, built field by field (a row is never spread into a response).
import type { Post } from "../../shared/schema.ts";
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
