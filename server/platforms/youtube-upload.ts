// YouTube's resumable upload protocol, from a file the guarded fetcher
// downloaded: chunks of a multiple of 256 KiB with `Content-Range`; a chunk
// whose answer is lost is followed by a status query (`Content-Range:
// bytes */TOTAL`), which answers 308 with `Range: bytes=0-N` (how much
// arrived) or the finished video — so a broken connection resumes where the
// upload stands instead of sending (and creating) the video again.
// https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
import { withParts } from "../media/read.ts";
import type { AdapterContext } from "./base.ts";
import { OutcomeUnknownError, PlatformError, PlatformHttpError, PlatformUnreachableError } from "./errors.ts";
import type { HttpReply } from "./http.ts";

/** 32 × 256 KiB: Google asks for multiples of 256 KiB. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Lost answers (chunks or status queries) tolerated in one upload before its outcome is unknown. */
const MAX_LOST = 3;

export interface UploadSource {
  path: string;
  bytes: number;
  /** What YouTube accepts: video/* or application/octet-stream. */
  contentType: string;
}

/** Worth asking the session how far it got: no answer, or the upload server failing. */
function resumable(err: unknown): boolean {
  return err instanceof OutcomeUnknownError || err instanceof PlatformUnreachableError || (err instanceof PlatformHttpError && err.status >= 500);
}

/** Where the next chunk starts, from a 308's `Range: bytes=0-N` (no header: nothing arrived). */
export function nextOffset(reply: HttpReply): number {
  const m = /bytes=0-(\d+)/.exec(reply.headers.get("range") ?? "");
  return m ? Number(m[1]) + 1 : 0;
}

/** Sends the file to the upload session at `location`; returns the video resource. */
export async function uploadResumable(ctx: AdapterContext, accessToken: string, location: string, media: UploadSource): Promise<any> {
  return withParts(media.path, async (read) => {
    const total = media.bytes;
    let offset = 0;
    let lost = 0;
    let ask = false;
    for (;;) {
      let reply: HttpReply;
      try {
        if (ask) {
          reply = await ctx.http.request("publish", location, {
            method: "PUT",
            bearer: accessToken,
            headers: { "content-range": `bytes */${total}`, "content-length": "0" },
            body: new Uint8Array(0),
          });
        } else {
          const size = Math.min(CHUNK_BYTES, total - offset);
          const chunk = await read(offset, size);
          // The video exists once the last chunk lands: losing that answer makes the outcome unknown.
          reply = await ctx.http.request("publish", location, {
            method: "PUT",
            bearer: accessToken,
            headers: { "content-type": media.contentType, "content-range": `bytes ${offset}-${offset + size - 1}/${total}` },
            body: chunk,
            timeoutMs: ctx.http.timeoutMs * 6,
          });
        }
      } catch (err) {
        if (!resumable(err) || ++lost > MAX_LOST) throw err;
        ask = true;
        continue;
      }
      ask = false;
      if (reply.status === 200 || reply.status === 201) return reply.body;
      if (reply.status === 308) {
        offset = nextOffset(reply);
        if (offset >= total) {
          // Every byte is there but no video yet: ask again, a bounded number of times.
          if (++lost > MAX_LOST) throw new PlatformError("youtube", "upload_incomplete", "outcome_unknown", "YouTube has every byte but reported no video");
          ask = true;
        }
        continue;
      }
      throw new PlatformError("youtube", "upload_unexpected", "transient", `YouTube answered the upload with ${reply.status}`);
    }
  });
}
