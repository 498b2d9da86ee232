// Content test set-up: a subscriber with connected platforms and a saved
// brand purpose, and the client's exact generate call (CLIENT.md §4).
import assert from "node:assert/strict";
import type { Platform } from "../../shared/schema.ts";
import { linkedinUnescape } from "../../server/platforms/text.ts";
import type { Client } from "../support/client.ts";
import type { TestServer } from "../support/server.ts";
import { publisher } from "../posts/helpers.ts";
import { clientBrandPurpose } from "../brand/helpers.ts";

export const ALL_PLATFORMS: Platform[] = ["facebook", "instagram", "linkedin", "x", "youtube"];

/** A user with a plan, the platforms connected through the OAuth flow, and the brand purpose saved. */
export async function brandOwner(server: TestServer, platforms: Platform[], account: string, plan: "starter" | "professional" = "professional", brand: Record<string, unknown> = {}) {
  const p = await publisher(server, platforms, account, plan);
  const saved = await p.client.post("/api/brand-purpose", clientBrandPurpose(brand));
  assert.equal(saved.status, 200, saved.text);
  return p;
}

/** What the schedule page sends, whatever the plan. */
export function generate(client: Client, brandPurpose: unknown = clientBrandPurpose()) {
  return client.post("/api/generate-strategic-content", { brandPurpose, totalPosts: 30, platforms: ["instagram", "facebook", "linkedin", "youtube", "x"], resetQuota: true });
}

export interface ApiPost {
  id: number;
  platform: Platform;
  content: string;
  status: string;
  scheduledFor: string;
  mediaUrl: string | null;
  generatedBy: string | null;
  strategicTheme: string | null;
  businessCanvasPhase: string | null;
  localEvent: string | null;
  [k: string]: unknown;
}

export async function postsOf(client: Client): Promise<ApiPost[]> {
  const r = await client.get("/api/posts");
  assert.equal(r.status, 200);
  return r.body;
}

export function brisbaneTime(iso: string): string {
  return new Intl.DateTimeFormat("en-AU", { timeZone: "Australia/Brisbane", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** Approves two drafts (one per platform when it can), publishes as the schedule page does, and checks the sandbox got them. */
export async function approveAndPublish(server: TestServer, client: Client, drafts: ApiPost[]) {
  const chosen: ApiPost[] = [];
  for (const p of drafts) if (chosen.length < 2 && !chosen.some((c) => c.platform === p.platform)) chosen.push(p);
  for (const p of chosen) {
    const a = await client.post("/api/approve-post", { postId: String(p.id) });
    assert.equal(a.status, 200, a.text);
  }
  const pub = await client.post("/api/direct-publish", { action: "publish_all" });
  assert.equal(pub.status, 200, pub.text);
  assert.equal(pub.body.successCount, chosen.length, JSON.stringify(pub.body));
  const onSandbox = await (await fetch(`${server.url}/sandbox/_control/published`)).json();
  const after = await postsOf(client);
  for (const c of chosen) {
    const now = after.find((p) => p.id === c.id)!;
    assert.equal(now.status, "published", `${c.platform} post ${c.id}: ${now.errorLog}`);
    // LinkedIn keeps the text as sent: escaped "little text".
    const asWritten = (p: { platform: string; text: string }) => (p.platform === "linkedin" ? linkedinUnescape(p.text) : p.text);
    const out = onSandbox.posts.filter((p: { platform: string; text: string }) => p.platform === c.platform && asWritten(p) === c.content);
    assert.equal(out.length, 1, `${c.platform} post is on the platform once`);
  }
  assert.equal(after.filter((p) => p.status === "draft").length, drafts.length - chosen.length, "the rest stay drafts");
  return chosen;
}
