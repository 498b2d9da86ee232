// POST /api/generate-strategic-content: a month of draft posts from the
// stored brand purpose, for the user's connected platforms, capped at what
// the plan has left, each passing its platform's checkContent, written by
// the model when one is configured and by the built-in writer otherwise (or
// when the model fails). Stored through the posts domain, which replaces
// only untouched generated drafts.
import { PLATFORMS, type Platform, type User } from "../../shared/schema.ts";
import { findBrandPurpose, findLogo } from "../brand/queries.ts";
import { logoUrlOf } from "../brand/logo.ts";
import type { ContactDetails, Goals } from "../brand/schemas.ts";
import { listConnections } from "../connections/service.ts";
import type { Deps } from "../deps.ts";
import { conflict } from "../http/errors.ts";
import { countPlannedPosts, replaceGeneratedDrafts, type GeneratedDraft } from "../posts/generated.ts";
import { quotaStatus } from "../quota/usage.ts";
import { SIZES, writePost, type Brand } from "./builtin.ts";
import { writeWithModel, type CheckText } from "./model.ts";
import { planSlots, themesFor, type Slot } from "./slots.ts";

export interface GenerateResult {
  success: true;
  savedCount: number;
  replacedCount: number;
  remainingPosts: number;
  plannedPosts: number;
  platforms: Platform[];
  skipped: Array<{ platform: Platform; reason: string }>;
  generator: "builtin" | "model";
  fallback?: { reason: string; attempts: number };
  message: string;
}

/** Why Instagram cannot carry the logo as its image (none, or a format it refuses: it takes JPEG only), or null. */
function instagramLogoProblem(deps: Deps, logo: { url: string; mimeType: string } | null): string | null {
  if (!logo) return "Instagram posts need an image: upload your logo to include Instagram";
  const media = deps.platforms.instagram.checkContent({ content: "-", mediaUrl: logo.url, mediaType: logo.mimeType }).filter((c) => c.field === "media");
  return media.length ? `Instagram cannot use your logo as its image (${media.map((m) => m.message).join("; ")}): upload a JPEG logo to include Instagram` : null;
}

function usable(deps: Deps, platforms: Platform[], instagramProblem: string | null, requested: Set<Platform>) {
  const skipped: GenerateResult["skipped"] = [];
  const eligible: Platform[] = [];
  for (const p of PLATFORMS) {
    if (!platforms.includes(p) || !requested.has(p)) continue;
    if (p === "youtube") skipped.push({ platform: p, reason: "YouTube posts need a video: add one to a post yourself" });
    else if (p === "instagram" && instagramProblem) skipped.push({ platform: p, reason: instagramProblem });
    else if (!deps.platforms[p].enabled) skipped.push({ platform: p, reason: `${deps.platforms[p].displayName} is not available` });
    else eligible.push(p);
  }
  return { eligible, skipped };
}

/** The built-in text for a slot: the fullest wording that passes the platform's rules. */
function builtinText(brand: Brand, slot: Slot, check: CheckText): string | undefined {
  for (let size = 0; size < SIZES.length; size++) {
    const text = writePost(brand, slot, size);
    if (!check(slot, text).length) return text;
  }
  return undefined;
}

export async function generateStrategicContent(deps: Deps, user: User, requested: Set<Platform>): Promise<GenerateResult> {
  const now = deps.clock.now();
  const purpose = await findBrandPurpose(deps.db, user.id);
  if (!purpose) throw conflict("brand_purpose_missing", "Save your brand purpose first: posts are written from it");
  const status = await quotaStatus(deps, user, now);
  if (!status.cycleEnd) throw conflict("no_active_subscription", "You need an active plan to generate posts");

  const logo = await findLogo(deps.db, user.id);
  const logoUrl = logoUrlOf(deps.config, logo);
  const connected = (await listConnections(deps, user.id)).filter((c) => c.isActive && (c.status === "connected" || c.status === "refreshing")).map((c) => c.platform);
  const { eligible, skipped } = usable(deps, connected, instagramLogoProblem(deps, logo ? { url: logoUrl!, mimeType: logo.mimeType } : null), requested);
  if (!eligible.length) {
    throw conflict("no_connected_platforms", skipped.length ? skipped.map((s) => s.reason).join("; ") : "Connect a platform first: posts are made for your connected platforms");
  }

  const planned = await countPlannedPosts(deps, user.id);
  const count = Math.max(0, status.remainingPosts - planned);
  const base = { success: true as const, remainingPosts: status.remainingPosts, plannedPosts: planned, platforms: eligible, skipped };
  if (count === 0) {
    const message = status.remainingPosts === 0 ? "Your plan has no posts left this cycle" : "Your approved and kept posts already use this cycle's remaining posts";
    return { ...base, savedCount: 0, replacedCount: 0, generator: "builtin", message };
  }

  const brand: Brand = { ...purpose, goals: purpose.goals as Goals, contactDetails: purpose.contactDetails as ContactDetails };
  const { timezone, postTimes, llm } = deps.config.content;
  const slots = planSlots({ platforms: eligible, count, now, timeZone: timezone, postTimes, themes: themesFor(brand.goals), until: new Date(status.cycleEnd) });
  const media = (p: Platform) => (p === "instagram" && logo ? { mediaUrl: logoUrl, mediaType: logo.mimeType } : { mediaUrl: null, mediaType: null });
  const check: CheckText = (slot, content) => deps.platforms[slot.platform].checkContent({ content, ...media(slot.platform) }).map((p) => p.message);

  let texts = new Map<number, string>();
  let generator: GenerateResult["generator"] = "builtin";
  let fallback: GenerateResult["fallback"];
  if (llm) {
    const result = await writeWithModel(llm, deps.log, brand, slots, check);
    if (result.ok) {
      texts = result.texts!;
      generator = "model";
    } else fallback = { reason: result.failures.at(-1) ?? "model unavailable", attempts: result.attempts };
  }

  const seen = new Set<string>();
  const drafts: GeneratedDraft[] = [];
  for (const slot of slots) {
    let content = texts.get(slot.n) ?? builtinText(brand, slot, check);
    if (!content) continue;
    // The same text twice on one account is refused as a duplicate (X) and confuses reconciliation.
    if (seen.has(`${slot.platform}|${content}`)) content = `${content}\n\n(${slot.localDate})`;
    if (check(slot, content).length) continue;
    seen.add(`${slot.platform}|${content}`);
    drafts.push({
      platform: slot.platform,
      content,
      scheduledFor: slot.scheduledFor,
      ...media(slot.platform),
      generatedBy: generator,
      strategicTheme: slot.theme.label,
      businessCanvasPhase: slot.theme.phase,
      engagementOptimisation: `Scheduled for ${slot.localTime} ${timezone} time`,
      localEvent: slot.event?.name ?? null,
    });
  }
  const { replaced, saved } = await replaceGeneratedDrafts(deps, user.id, drafts);
  const via = generator === "model" ? "the model" : fallback ? `the built-in writer (the model failed: ${fallback.reason})` : "the built-in writer";
  return {
    ...base,
    savedCount: saved,
    replacedCount: replaced,
    generator,
    ...(fallback ? { fallback } : {}),
    message: `Created ${saved} draft posts for the next 30 days with ${via}; review and approve them on your schedule`,
  };
}
