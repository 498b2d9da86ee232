// Test helpers for the quota domain: a subscriber with a granted plan, and
// post rows as the publishing code would leave them.
import type { PlanName, Platform } from "../../shared/schema.ts";
import { grantPlan } from "../../server/quota/grant.ts";
import { quotaFor } from "../../server/quota/plans.ts";
import { signedUpClient, type TestServer } from "../support/server.ts";

export async function subscriber(
  server: TestServer,
  options: { plan?: PlanName; start: Date; quota?: number; tag?: string },
) {
  const signed = await signedUpClient(server, options.tag ?? "sub");
  const plan = options.plan ?? "starter";
  await server.deps.db.transaction((tx) =>
    grantPlan(tx, {
      userId: signed.user.id,
      plan,
      source: "test",
      now: options.start,
      quotaFor: options.quota === undefined ? quotaFor(server.deps.config) : () => options.quota!,
    }),
  );
  return signed;
}

export async function insertPost(
  server: TestServer,
  userId: number,
  p: { platform?: Platform; status: string; at: Date; reach?: number; engagement?: number; impressions?: number; fetched?: boolean },
): Promise<number> {
  const q = server.deps.database.pool;
  const platform = p.platform ?? "facebook";
  const published = p.status === "published";
  const { rows } = await q.query(
    `insert into posts (user_id, platform, content, status, published_at, updated_at, created_at)
     values ($1, $2, 'hello', $3, $4, $5, $5) returning id`,
    [userId, platform, p.status, published ? p.at.toISOString() : null, p.at.toISOString()],
  );
  const id = rows[0].id as number;
  if (p.reach !== undefined) {
    await q.query(
      `insert into post_analytics (post_id, user_id, platform, reach, engagement, impressions, fetched_at)
       values ($1, $2, $3, $4, $5, $6, $7)`,
      [id, userId, platform, p.reach, p.engagement ?? 0, p.impressions ?? 0, p.fetched === false ? null : p.at.toISOString()],
    );
  }
  return id;
}

export async function one(server: TestServer, text: string, params: unknown[] = []) {
  return (await server.deps.database.pool.query(text, params)).rows[0];
}

export async function all(server: TestServer, text: string, params: unknown[] = []) {
  return (await server.deps.database.pool.query(text, params)).rows;
}

export const DAY = 24 * 60 * 60 * 1000;
