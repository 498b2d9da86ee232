// posts.platform_state: what a platform left on a post between attempts —
// Instagram's container id (a retry reuses it instead of making Meta fetch
// the media again), YouTube's visibility and a notice for the user. Written
// only while this claim holds the lease.
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import type { PlatformStateStore } from "../platforms/types.ts";
import type { ClaimedPost } from "./lease.ts";

export function platformStateOf(deps: Deps, post: Pick<ClaimedPost, "id" | "leaseId" | "attemptCount" | "previous">): PlatformStateStore {
  // A post's first attempt finds nothing left by an earlier one: no query on the hot path.
  let fresh = post.attemptCount <= 1 && post.previous === "approved";
  return {
    async get() {
      if (fresh) return {};
      const [row] = rowsOf<{ platform_state: Record<string, unknown> | string | null }>(
        await deps.db.execute(sql`select platform_state from posts where id = ${post.id}`),
      );
      const v = row?.platform_state;
      return (typeof v === "string" ? JSON.parse(v) : v) ?? {};
    },
    async set(patch) {
      fresh = false;
      // jsonb_strip_nulls: a null in the patch removes that key.
      await deps.db.execute(sql`
        update posts set platform_state = jsonb_strip_nulls(coalesce(platform_state, '{}'::jsonb) || ${JSON.stringify(patch)}::jsonb)
        where id = ${post.id} and lease_id = ${post.leaseId}`);
    },
  };
}
