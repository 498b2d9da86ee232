// An attempt whose outcome is unknown (timeout, lost answer, a process that
// died holding the lease) is settled by asking the platform: list the
// account's posts since the attempt began and look for ours. Only "not there"
// allows a re-send.
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { sameText } from "../platforms/text.ts";
import type { ConnectionCredentials, RecentPost } from "../platforms/types.ts";
import type { ClaimedPost } from "./lease.ts";

/** Clock skew between us and the platform we tolerate when listing. */
const SKEW_MS = 5 * 60 * 1000;


/** The platform post id of our post, or null when the platform does not have it. Throws what the adapter throws. */
export async function findPublished(deps: Deps, post: ClaimedPost, credentials: ConnectionCredentials): Promise<string | null> {
  const since = new Date((post.lastAttemptAt ?? post.createdAt).getTime() - SKEW_MS);
  const recent = await deps.platforms[post.platform].listRecentPosts(credentials, since);
  const candidates = recent.filter((r: RecentPost) => sameText(r.text, post.content) && r.createdAt.getTime() >= since.getTime());
  if (!candidates.length) return null;
  // Two of the user's posts may share a text: an id another post already owns is not ours.
  const ids = candidates.map((c) => c.id);
  const owned = new Set(
    rowsOf<{ platform_post_id: string }>(
      await deps.db.execute(sql`
        select platform_post_id from posts
        where user_id = ${post.userId} and platform = ${post.platform} and id <> ${post.id}
          and platform_post_id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`),
    ).map((r) => r.platform_post_id),
  );
  // Oldest first: the earliest unclaimed match is the one our first lost attempt made.
  const free = candidates.filter((c) => !owned.has(c.id)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return free[0]?.id ?? null;
}
