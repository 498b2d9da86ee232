// POST /api/generate-guidance: short, markdown-like advice built from the
// form as it is being filled in. The client calls it on keystrokes and
// injects the answer with dangerouslySetInnerHTML, so: everything is
// HTML-escaped here (the one place the answer is made), identical inputs are
// answered from a per-process cache, and callers are rate limited.
import { createHash } from "node:crypto";
import { escapeHtml } from "../http/html.ts";
import type { GuidanceInput } from "./schemas.ts";
import { excerpt, firstSentence, inSentence, tidy } from "./text.ts";

const CACHE_SIZE = 500;
const cache = new Map<string, string>();

function cacheKey(input: GuidanceInput): string {
  const normal = Object.entries(input)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${tidy(v)}`)
    .join("\n");
  return createHash("sha256").update(normal).digest("hex");
}

/** The guidance for this input, from the cache when the same input was seen. */
export function guidanceFor(input: GuidanceInput): { guidance: string; cached: boolean } {
  const key = cacheKey(input);
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Refresh its place: the cache drops the least recently used entry.
    cache.delete(key);
    cache.set(key, hit);
    return { guidance: hit, cached: true };
  }
  const guidance = escapeHtml(writeGuidance(input));
  cache.set(key, guidance);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return { guidance, cached: false };
}

/** The advice as plain markdown-like text (escaped by the caller). */
export function writeGuidance(f: GuidanceInput): string {
  const name = excerpt(f.brandName, 80) || "your business";
  const lines: string[] = [`## Brand guidance for ${name}`, ""];
  if (f.corePurpose.trim()) lines.push(`**Core purpose:** ${firstSentence(f.corePurpose, 160)}.`, "");
  lines.push("### What to say", "");
  const points: string[] = [];
  if (f.productsServices.trim()) points.push(`Lead with what you offer: ${excerpt(f.productsServices, 120)}.`);
  if (f.audience.trim()) points.push(`Write for ${inSentence(excerpt(f.audience, 100))}, in their words, not industry terms.`);
  if (f.jobToBeDone.trim()) points.push(`Show the job you get done for them: ${inSentence(firstSentence(f.jobToBeDone, 120))}.`);
  if (f.painPoints.trim()) points.push(`Name the frustration before the fix: ${inSentence(firstSentence(f.painPoints, 120))}.`);
  if (f.motivations.trim()) points.push(`Connect to why they buy: ${inSentence(firstSentence(f.motivations, 120))}.`);
  if (!points.length) points.push("Describe your products or services, your audience and their pain points to get specific advice.");
  lines.push(...points.map((p) => `- ${p}`), "");
  lines.push(
    "### A month of posts",
    "",
    "1. **Awareness:** one post a week that tells your story and why you started.",
    "2. **Proof:** customer results, reviews and behind-the-scenes moments.",
    "3. **Offer:** a clear next step (visit, book, call) in every third post.",
    "4. **Local:** tie posts to Queensland events and public holidays your customers notice.",
  );
  return lines.join("\n");
}
