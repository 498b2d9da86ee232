// What the user is told by e-mail about a post (once per post, notify/once.ts).
import { eq } from "drizzle-orm";
import { users } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { sendEmailOnce } from "../notify/once.ts";
import type { ClaimedPost } from "./lease.ts";

export const MAY_BE_LIVE_KIND = "post_may_be_live";

/**
 * A post whose sends all ended without an answer has failed, but one of them
 * may have gone out: the user checks their account before posting it again.
 */
export async function tellMayBeLive(deps: Deps, post: ClaimedPost, reason: string): Promise<void> {
  const [account] = await deps.db.select({ email: users.email }).from(users).where(eq(users.id, post.userId));
  if (!account) return;
  const name = deps.platforms[post.platform].displayName;
  const excerpt = post.content.length > 140 ? `${post.content.slice(0, 140)}…` : post.content;
  await sendEmailOnce(deps, {
    userId: post.userId,
    kind: MAY_BE_LIVE_KIND,
    dedupeKey: `post:${post.id}`,
    at: deps.clock.now(),
    message: {
      to: account.email,
      subject: `A ${name} post may or may not have gone out`,
      text:
        `We tried to publish this post to ${name}, but ${name} never confirmed it:\n\n"${excerpt}"\n\n` +
        `${reason}\n\nPlease look at your ${name} account: if the post is not there, post it again from your schedule.\n\n— AgencyIQ`,
    },
    failureNote: "Post notice e-mail failed",
  });
}
