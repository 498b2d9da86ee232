// Instagram carousels: 2–10 images (JPEG) and/or videos (MP4, MOV) in one post.
// Graph makes one container per item (is_carousel_item=true, no caption; a
// video is media_type=VIDEO), then a carousel container naming them
// (media_type=CAROUSEL, children=<ids>, caption), which media_publish turns
// into ONE post, counted once against the 24-hour limit (Meta's
// content-publishing guide: "up to 10 container IDs", "Carousels count as a
// single post").
//
// Every container id is kept on the post as soon as it exists, so a retry
// reuses it and Meta does not download the media again; an expired one (24
// hours) is forgotten and made again by the next attempt.
import { createHash } from "node:crypto";
import { listFormatProblems, mediaKind, type AdapterContext } from "./base.ts";
import { PlatformError } from "./errors.ts";
import { needsNewContainer } from "./graph.ts";
import type { ConnectionCredentials, ContentProblem, PostInput } from "./types.ts";

export const CAROUSEL_MAX = 10;
export const INSTAGRAM_FORMATS = { image: ["jpeg"], video: ["mp4", "mov"] };

/** Waits for a container to be FINISHED; forget() drops it from the post when it expired. */
export type WaitForContainer = (conn: ConnectionCredentials, containerId: string, forget: () => Promise<void>, giveUpAt: number) => Promise<void>;

const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("base64url");

/** The carousel's rules: at most 10 items, each in a format Instagram takes (typed by its URL). */
export function carouselProblems(items: string[]): ContentProblem[] {
  const problems: ContentProblem[] = [];
  if (items.length > CAROUSEL_MAX) {
    problems.push({ code: "instagram_carousel_too_many", field: "media", message: `An Instagram carousel holds at most ${CAROUSEL_MAX} images or videos`, limit: CAROUSEL_MAX, actual: items.length });
  }
  return [...problems, ...listFormatProblems("instagram", items, INSTAGRAM_FORMATS)];
}

/** What Graph is asked to make for each item. */
function itemForm(url: string): Record<string, string> {
  return mediaKind({ mediaUrl: url }) === "video"
    ? { media_type: "VIDEO", video_url: url, is_carousel_item: "true" }
    : { image_url: url, is_carousel_item: "true" };
}

/**
 * The carousel container for this post, FINISHED and ready for media_publish:
 * the children made (or reused) and waited for, then the parent made (or
 * reused: only when it names exactly these children with this caption).
 */
export async function carouselContainer(ctx: AdapterContext, conn: ConnectionCredentials, ig: string, post: PostInput, items: string[], wait: WaitForContainer, giveUpAt: number): Promise<string> {
  const forms = items.map(itemForm);
  // The position is in the key: the same image twice is two children.
  const keys = forms.map((form, i) => hash({ i, ...form }));
  const saved = (await post.state?.get()) ?? {};
  const known = (saved.carouselChildren ?? {}) as Record<string, unknown>;
  // Only this list's children are kept: a child of another list is never reused.
  const children: Record<string, string> = {};
  for (const k of keys) if (typeof known[k] === "string") children[k] = known[k] as string;
  const remember = () => post.state?.set({ carouselChildren: { ...children } }) ?? Promise.resolve();

  for (const [i, key] of keys.entries()) {
    if (children[key]) continue;
    const made = await ctx.http.request("create_carousel_item", `${ctx.urls.api}/${ig}/media`, { form: forms[i]!, bearer: conn.accessToken });
    children[key] = String(made.body.id);
    await remember();
  }
  // Created first, waited for after: Meta processes them side by side. Every expired child is
  // forgotten before the attempt ends, so the next one makes them all again at once.
  let expired: unknown;
  for (const key of keys) {
    try {
      await wait(conn, children[key]!, async () => {
        delete children[key];
        await remember();
      }, giveUpAt);
    } catch (err) {
      if (!(err instanceof PlatformError && err.code === "container_expired")) throw err;
      expired ??= err;
    }
  }
  if (expired) throw expired;

  const form = { media_type: "CAROUSEL", children: keys.map((k) => children[k]!).join(","), caption: post.content };
  const parentKey = hash(form);
  let parent = typeof saved.containerId === "string" && saved.containerFor === parentKey ? saved.containerId : undefined;
  if (!parent) {
    try {
      const made = await ctx.http.request("create_carousel", `${ctx.urls.api}/${ig}/media`, { form, bearer: conn.accessToken });
      parent = String(made.body.id);
    } catch (err) {
      // A child Graph no longer takes (expired since it was checked): all are made again next time.
      if (needsNewContainer(err)) await post.state?.set({ carouselChildren: null });
      throw err;
    }
    await post.state?.set({ containerId: parent, containerFor: parentKey });
  }
  await wait(conn, parent, () => post.state?.set({ containerId: null, containerFor: null }) ?? Promise.resolve(), giveUpAt);
  return parent;
}
