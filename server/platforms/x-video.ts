// Video on X: the chunked media upload, then the post names the media id once
// X has processed it. Current X docs (docs.x.com "Chunked media upload" and
// the API reference, 2025-2026; the command-based INIT/APPEND/FINALIZE on
// /2/media/upload was replaced by these paths in mid-2025):
//   POST /2/media/upload/initialize {media_type, total_bytes, media_category: tweet_video}
//   POST /2/media/upload/{id}/append   multipart: segment_index (0–999), media (≤ 5 MB)
//   POST /2/media/upload/{id}/finalize → processing_info {state: pending, check_after_secs}
//   GET  /2/media/upload?command=STATUS&media_id= → in_progress | succeeded | failed (error.message)
// A media id is usable until expires_after_secs (24 hours) and only once its
// processing succeeded; a post naming it earlier is refused ("Your media IDs
// are invalid.").
//
// The media id is kept on the post (platform_state) as soon as finalize
// answers, so an attempt that gives up while X is still processing is resumed
// by the next one — which asks STATUS instead of uploading again.
import { createHash } from "node:crypto";
import { downloadMedia } from "../media/fetch.ts";
import { withParts } from "../media/read.ts";
import { mediaFormat, type AdapterContext } from "./base.ts";
import { ContentRejectedError, OutcomeUnknownError, PlatformError, PlatformHttpError, PlatformUnreachableError } from "./errors.ts";
import type { PostInput } from "./types.ts";

/**
 * What we send X at most. 512 MB is the tweet_video cap X documented for years
 * and the guarded fetcher's default video cap; docs.x.com now lists more for
 * Post video (8 GB, 20 minutes on ordinary accounts) — raising this needs
 * MEDIA_MAX_VIDEO_MB raised too. Duration is X's to judge: a video it refuses
 * ends processing "failed" with its reason, or the post is refused (403).
 */
export const X_MAX_VIDEO_BYTES = 512 * 1024 * 1024;
/** 4 MiB per APPEND: under X's 5 MB per segment; 128 segments for 512 MB (X takes indexes up to 999). */
export const X_SEGMENT_BYTES = 4 * 1024 * 1024;
/** How long one attempt waits for processing, in platform timeouts (as Instagram's containers). */
const PROCESSING_WAIT = 1.5;
/** A kept media id this close to its expiry is uploaded again: the post must land before X forgets it. */
const EXPIRY_MARGIN_MS = 60 * 60_000;
/** APPEND is safe to send again (a segment replaces itself): tries per segment when the answer is lost. */
const APPEND_TRIES = 3;

/**
 * Outcomes about the user's video, not X's health (X answered each call):
 * they must never move X's circuit breaker (ErrorClassification.notPlatform).
 */
export const VIDEO_OUTCOMES = new Set(["media_processing", "media_processing_failed", "media_expired"]);

interface ProcessingInfo {
  state?: string;
  check_after_secs?: number;
  error?: { message?: string };
}

const keyOf = (url: string) => createHash("sha256").update(url).digest("base64url");

/** Drops the kept media id (processing failed, expired, or X refused it). */
export async function forgetVideo(post: PostInput): Promise<void> {
  await post.state?.set({ xVideoMediaId: null, xVideoFor: null, xVideoExpiresAt: null });
}

/** The media id of the post's video, processed and ready to be named by the post. */
export async function xVideoMediaId(ctx: AdapterContext, accessToken: string, post: PostInput): Promise<string> {
  const url = post.mediaUrl!;
  const saved = await post.state?.get();
  const kept = typeof saved?.xVideoMediaId === "string" && saved.xVideoFor === keyOf(url) && Number(saved.xVideoExpiresAt) - EXPIRY_MARGIN_MS > ctx.clock.now().getTime();
  if (kept) {
    const id = saved!.xVideoMediaId as string;
    await waitUntilProcessed(ctx, accessToken, post, id, await status(ctx, accessToken, post, id));
    return id;
  }
  const { id, info } = await upload(ctx, accessToken, post);
  await waitUntilProcessed(ctx, accessToken, post, id, info);
  return id;
}

async function upload(ctx: AdapterContext, accessToken: string, post: PostInput): Promise<{ id: string; info?: ProcessingInfo }> {
  const url = post.mediaUrl!;
  const video = await downloadMedia(url, "video", ctx.media);
  try {
    if (video.bytes > X_MAX_VIDEO_BYTES) {
      throw new ContentRejectedError("x", [
        { code: "x_video_too_large", field: "media", message: `Videos on X are limited to ${X_MAX_VIDEO_BYTES / 1024 / 1024} MB here`, limit: X_MAX_VIDEO_BYTES, actual: video.bytes },
      ]);
    }
    const api = `${ctx.urls.api}/2/media/upload`;
    const init = await ctx.http.request("media_init", `${api}/initialize`, {
      bearer: accessToken,
      json: { media_type: mediaFormat(post) === "mov" ? "video/quicktime" : "video/mp4", total_bytes: video.bytes, media_category: "tweet_video" },
    });
    const id = String(init.body?.data?.id ?? "");
    if (!/^\d+$/.test(id)) throw new PlatformError("x", "media_upload_failed", "transient", "X opened no video upload");
    await withParts(video.path, async (read) => {
      for (let index = 0, offset = 0; offset < video.bytes; index++, offset += X_SEGMENT_BYTES) {
        await appendSegment(ctx, accessToken, `${api}/${id}/append`, index, await read(offset, Math.min(X_SEGMENT_BYTES, video.bytes - offset)));
      }
    });
    const fin = await ctx.http.request("media_finalize", `${api}/${id}/finalize`, { method: "POST", bearer: accessToken });
    const data = fin.body?.data ?? {};
    const expiresAt = ctx.clock.now().getTime() + (Number(data.expires_after_secs) || 86_400) * 1000;
    await post.state?.set({ xVideoMediaId: id, xVideoFor: keyOf(url), xVideoExpiresAt: expiresAt });
    return { id, info: data.processing_info };
  } finally {
    await video.dispose();
  }
}

async function appendSegment(ctx: AdapterContext, accessToken: string, url: string, index: number, bytes: Buffer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.http.request("media_append", url, {
        bearer: accessToken,
        multipart: [
          { name: "segment_index", value: String(index) },
          { name: "media", value: bytes, filename: `segment-${index}` },
        ],
        timeoutMs: ctx.http.timeoutMs * 3,
      });
      return;
    } catch (err) {
      const lost = err instanceof OutcomeUnknownError || err instanceof PlatformUnreachableError || (err instanceof PlatformHttpError && err.status >= 500);
      if (!lost || attempt >= APPEND_TRIES) throw err;
    }
  }
}

async function status(ctx: AdapterContext, accessToken: string, post: PostInput, id: string): Promise<ProcessingInfo | undefined> {
  try {
    const r = await ctx.http.request("media_status", `${ctx.urls.api}/2/media/upload`, { bearer: accessToken, query: { command: "STATUS", media_id: id } });
    return r.body?.data?.processing_info;
  } catch (err) {
    // X no longer knows the id (expired early, or never finished): the next attempt uploads again.
    if (err instanceof PlatformHttpError && (err.status === 400 || err.status === 404)) {
      await forgetVideo(post);
      throw new PlatformError("x", "media_expired", "transient", "X no longer has the uploaded video; it will be uploaded again");
    }
    throw err;
  }
}

/**
 * Follows processing_info until succeeded (none at all: usable at once), at
 * the pace X asks (check_after_secs), for PROCESSING_WAIT platform timeouts
 * from the end of the upload (a long upload does not eat the wait): then this
 * attempt ends transient and the kept media id lets the retry resume it.
 */
async function waitUntilProcessed(ctx: AdapterContext, accessToken: string, post: PostInput, id: string, first: ProcessingInfo | undefined): Promise<void> {
  const giveUpAt = Date.now() + ctx.http.timeoutMs * PROCESSING_WAIT;
  for (let info = first; ; info = await status(ctx, accessToken, post, id)) {
    if (!info?.state || info.state === "succeeded") return;
    if (info.state === "failed") {
      await forgetVideo(post);
      throw new PlatformError("x", "media_processing_failed", "permanent", `X could not process the video: ${info.error?.message ?? "no reason given"}`);
    }
    const pause = Math.min(Math.max((Number(info.check_after_secs) || 1) * 1000, 250), 10_000);
    if (Date.now() + pause > giveUpAt) {
      throw new PlatformError("x", "media_processing", "transient", "X is still processing the video; publishing resumes when it is ready");
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
