// X's media upload as the sandbox serves it (docs.x.com, "Chunked media
// upload" and the /2/media/upload/* API reference): an image in one call
// (POST /2/media/upload, base64 JSON); a video in a session —
// POST /2/media/upload/initialize {media_type, total_bytes, media_category}
// → POST /2/media/upload/{id}/append (multipart: segment_index 0–999, media
// ≤ 5 MB per segment) → POST /2/media/upload/{id}/finalize (the segments must
// add up to total_bytes; the answer carries processing_info: pending) →
// GET /2/media/upload?command=STATUS&media_id= (in_progress with
// check_after_secs, then succeeded or failed with error.message). A post may
// only name media whose processing succeeded, within 24 hours: anything else
// is 400 "Your media IDs are invalid." (the answer quoted in
// abraham/twitteroauth#1222 for a video still pending).
import type { Request, RequestHandler, Router } from "express";
import multer from "multer";
import { Fail, handle, params, xFail } from "./kit.ts";
import type { SandboxState, Token, XMedia } from "./state.ts";

const DAY = 86_400_000;
const MAX_SEGMENT_BYTES = 5 * 1024 * 1024;
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const MAX_VIDEO_BYTES = 512 * 1024 * 1024;
const VIDEO_TYPES = ["video/mp4", "video/quicktime"];

/** X's answer for a request parameter it refuses (RFC 7807 problem with the parameter named). */
export const invalidRequest = (message: string) =>
  new Fail({
    status: 400,
    json: { errors: [{ message }], title: "Invalid Request", detail: "One or more parameters to your request was invalid.", type: "https://api.twitter.com/2/problems/invalid-request" },
  });

const isVideo = (m: XMedia) => m.category === "tweet_video" || m.mediaType.startsWith("video/");

/**
 * processing_info of a finalized video by the sandbox clock or real time
 * (whichever passed further); none for images. `queued`: the answer to the
 * FINALIZE that just ended the upload, which X gives as "pending" however
 * long the request took (STATUS shows "in_progress" after).
 */
export function processingInfo(s: SandboxState, m: XMedia, queued = false): Record<string, unknown> | undefined {
  if (!isVideo(m) || m.finalizedAt === undefined) return undefined;
  const ms = s.settings.xVideoProcessingMs;
  const elapsed = Math.max(s.now() - m.finalizedAt, Date.now() - (m.finalizedReal ?? 0));
  if (elapsed >= ms) {
    return m.failWith
      ? { state: "failed", progress_percent: 100, error: { code: 1, name: "InvalidMedia", message: m.failWith } }
      : { state: "succeeded", progress_percent: 100 };
  }
  const left = Math.ceil((ms - elapsed) / 1000);
  return { state: queued || elapsed === 0 ? "pending" : "in_progress", check_after_secs: Math.min(Math.max(left, 1), 10), progress_percent: Math.floor((elapsed / ms) * 100) };
}

const expired = (s: SandboxState, m: XMedia) => s.now() - (m.finalizedAt ?? m.createdAt) > DAY;

/** True when a post may name this media: this user's, finalized, processed, not expired. */
export function usableMedia(s: SandboxState, user: string, id: string): boolean {
  const m = s.xMedia.get(id);
  if (!m || m.user !== user || m.finalizedAt === undefined || expired(s, m)) return false;
  const info = processingInfo(s, m);
  return !info || info.state === "succeeded";
}

export function xMediaRoutes(s: SandboxState, r: Router, api: string, token: (req: Request) => Token): void {
  const writer = (req: Request) => {
    const t = token(req);
    if (!t.scopes.includes("media.write")) throw xFail(403, "Forbidden", "You are not permitted to perform this action.");
    return t;
  };
  const session = (t: Token, id: string) => {
    const m = s.xMedia.get(id);
    if (!m || m.user !== t.user || expired(s, m)) throw invalidRequest(`$.id: media id ${id} is not an upload of yours in progress`);
    return m;
  };
  const newId = () => `19${s.nextId().padStart(17, "0")}`;
  const describe = (id: string, m: XMedia, queued = false) => {
    const info = processingInfo(s, m, queued);
    const key = `${isVideo(m) ? 7 : 3}_${id}`;
    return { id, media_key: key, size: m.totalBytes, expires_after_secs: Math.max(0, Math.floor(((m.finalizedAt ?? m.createdAt) + DAY - s.now()) / 1000)), ...(info ? { processing_info: info } : {}) };
  };

  // An image in one call (base64 JSON): final at once, no processing.
  r.post(`${api}/media/upload`, handle(s, "x.media.upload", (req) => {
    const t = writer(req);
    const b64 = typeof req.body?.media === "string" ? req.body.media : "";
    const bytes = Buffer.from(b64, "base64");
    if (!bytes.length) throw invalidRequest("$.media: is missing but it is required");
    if (bytes.length > MAX_IMAGE_BYTES) throw xFail(400, "Invalid Request", `Image file size must be <= ${MAX_IMAGE_BYTES} bytes`);
    const id = newId();
    const m: XMedia = { user: t.user, category: String(req.body?.media_category ?? "tweet_image"), mediaType: "image/jpeg", totalBytes: bytes.length, segments: [bytes.length], createdAt: s.now(), finalizedAt: s.now(), finalizedReal: Date.now() };
    s.xMedia.set(id, m);
    return { json: { data: describe(id, m) } };
  }));

  r.post(`${api}/media/upload/initialize`, handle(s, "x.media.init", (req) => {
    const t = writer(req);
    const b = req.body ?? {};
    const total = Number(b.total_bytes);
    if (!Number.isInteger(total) || total <= 0) throw invalidRequest("$.total_bytes: must be a positive integer");
    const mediaType = String(b.media_type ?? "");
    if (!VIDEO_TYPES.includes(mediaType)) throw invalidRequest(`$.media_type: ${mediaType || "(missing)"} is not a video type this sandbox takes (video/mp4, video/quicktime)`);
    const category = String(b.media_category ?? "tweet_video");
    if (category === "tweet_video" && total > MAX_VIDEO_BYTES) throw invalidRequest(`$.total_bytes: video file size must be <= ${MAX_VIDEO_BYTES} bytes`);
    const id = newId();
    s.xMedia.set(id, { user: t.user, category, mediaType, totalBytes: total, segments: [], createdAt: s.now() });
    return { json: { data: { id, media_key: `7_${id}`, expires_after_secs: 86400 } } };
  }));

  r.post(`${api}/media/upload/:id/append`, segmentBody, handle(s, "x.media.append", (req) => {
    const t = writer(req);
    const m = session(t, String(req.params.id));
    if (m.finalizedAt !== undefined) throw invalidRequest("$.id: this upload is already finalized");
    const index = Number(params(req).segment_index);
    // A segment sent again replaces itself (a retry after a lost answer); one past a missing segment is refused.
    if (!Number.isInteger(index) || index < 0 || index > 999) throw invalidRequest("$.segment_index: must be an integer from 0 to 999");
    if (index > m.segments.length) throw invalidRequest(`$.segment_index: segment ${index} sent before segment ${m.segments.length}`);
    const file = (req as Request & { file?: { buffer: Buffer } }).file?.buffer;
    const bytes = file ?? (typeof req.body?.media === "string" ? Buffer.from(req.body.media, "base64") : Buffer.alloc(0));
    if (!bytes.length) throw invalidRequest("$.media: is missing but it is required");
    if (bytes.length > MAX_SEGMENT_BYTES) throw invalidRequest(`$.media: a segment must be <= ${MAX_SEGMENT_BYTES} bytes`);
    const others = m.segments.reduce((a, n, i) => a + (i === index ? 0 : n), 0);
    if (others + bytes.length > m.totalBytes) throw invalidRequest("$.media: more bytes than total_bytes declared at initialize");
    m.segments[index] = bytes.length;
    return { json: { data: { expires_at: Math.floor((m.createdAt + DAY) / 1000) } } };
  }));

  r.post(`${api}/media/upload/:id/finalize`, handle(s, "x.media.finalize", (req) => {
    const t = writer(req);
    const id = String(req.params.id);
    const m = session(t, id);
    const finalizing = m.finalizedAt === undefined;
    if (finalizing) {
      const received = m.segments.reduce((a, n) => a + n, 0);
      if (received !== m.totalBytes) throw invalidRequest(`$.id: received ${received} bytes of the ${m.totalBytes} declared in total_bytes`);
      m.finalizedAt = s.now();
      m.finalizedReal = Date.now();
      if (s.settings.xVideoProcessingError) m.failWith = s.settings.xVideoProcessingError;
    }
    return { json: { data: describe(id, m, finalizing) } };
  }));

  r.get(`${api}/media/upload`, handle(s, "x.media.status", (req) => {
    const t = writer(req);
    const p = params(req);
    if (p.command !== "STATUS") throw invalidRequest("$.command: must be STATUS");
    const id = String(p.media_id ?? "");
    return { json: { data: describe(id, session(t, id)) } };
  }));
}

// Segments arrive as multipart/form-data; a part over X's 5 MB is read (up to a bound) so it can be refused with X's answer.
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 2 * MAX_SEGMENT_BYTES, files: 1, fields: 10 } }).single("media");
const segmentBody: RequestHandler = (req, res, next) =>
  upload(req, res, (err: unknown) => {
    if (!err) return next();
    const message = err instanceof multer.MulterError && err.code === "LIMIT_FILE_SIZE" ? `$.media: a segment must be <= ${MAX_SEGMENT_BYTES} bytes` : "$.media: the multipart body could not be read";
    res.status(400).json(invalidRequest(message).reply.json);
  });
