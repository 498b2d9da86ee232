// Did a post whose outcome is unknown go out? Ask the platform for the
// account's recent posts and match by content and time: never re-send blindly.
import { sameText } from "./text.ts";
import type { ConnectionCredentials, PlatformAdapter, RecentPost } from "./types.ts";

/**
 * The platform's post with this content published at or after `notBefore`
 * (the attempt's start, minus clock skew), or null when there is none.
 * Errors from the platform propagate: classify them like any other call.
 */
export async function findPublishedPost(
  adapter: PlatformAdapter,
  conn: ConnectionCredentials,
  post: { content: string; notBefore: Date },
): Promise<RecentPost | null> {
  const recent = await adapter.listRecentPosts(conn, post.notBefore);
  return recent.find((p) => p.createdAt >= post.notBefore && sameText(p.text, post.content)) ?? null;
}
