// LinkedIn's Images and Videos APIs as the sandbox serves them: media only
// through initializeUpload → PUT → (videos) finalizeUpload, then named by a
// post's content.media.id. A post naming media that is not uploaded, or not
// its author's, is refused.
import express, { type Request, type Router } from "express";
import { Fail, handle, linkedinFail, params } from "./kit.ts";
import { actsForOrganization } from "./linkedin-orgs.ts";
import type { SandboxState, Token } from "./state.ts";

/** LinkedIn splits video uploads in parts of 4 MiB. */
const PART_BYTES = 4 * 1024 * 1024;

export function linkedinMediaRoutes(s: SandboxState, r: Router, api: string, token: (req: Request) => Token, needVersion: (req: Request) => void, urn: (t: Token) => string): void {
  const base = (req: Request) => `${req.protocol}://${req.get("host")}${req.baseUrl}${api}`;
  const owned = (t: Token, owner: unknown) => {
    if (owner !== urn(t) && !actsForOrganization(s, t, owner, "w_organization_social")) throw linkedinFail(403, "Not enough permissions to access: the owner must be the authenticated member", 100);
  };

  r.post(`${api}/rest/images`, handle(s, "linkedin.images.init", (req) => {
    const t = token(req);
    needVersion(req);
    if (params(req).action !== "initializeUpload") throw linkedinFail(400, "Unsupported action");
    owned(t, req.body?.initializeUploadRequest?.owner);
    const id = `C${s.nextId()}`;
    s.linkedinMedia.set(`urn:li:image:${id}`, { owner: String(req.body.initializeUploadRequest.owner), kind: "image", received: 0, status: "WAITING_UPLOAD" });
    return { json: { value: { uploadUrlExpiresAt: s.now() + 86_400_000, uploadUrl: `${base(req)}/_upload/image/${id}`, image: `urn:li:image:${id}` } } };
  }));

  r.post(`${api}/rest/videos`, handle(s, (req) => (params(req).action === "finalizeUpload" ? "linkedin.videos.finalize" : "linkedin.videos.init"), (req) => {
    const t = token(req);
    needVersion(req);
    const action = params(req).action;
    if (action === "initializeUpload") {
      const q = req.body?.initializeUploadRequest ?? {};
      owned(t, q.owner);
      const size = Number(q.fileSizeBytes);
      if (!Number.isInteger(size) || size <= 0) throw linkedinFail(400, "fileSizeBytes must be a positive integer");
      const id = `D${s.nextId()}`;
      const parts = Math.ceil(size / PART_BYTES);
      s.linkedinMedia.set(`urn:li:video:${id}`, { owner: String(q.owner), kind: "video", size, received: 0, parts, status: "WAITING_UPLOAD" });
      const uploadInstructions = Array.from({ length: parts }, (_, i) => ({
        uploadUrl: `${base(req)}/_upload/video/${id}/${i}`,
        firstByte: i * PART_BYTES,
        lastByte: Math.min(size, (i + 1) * PART_BYTES) - 1,
      }));
      return { json: { value: { uploadUrlsExpireAt: s.now() + 86_400_000, video: `urn:li:video:${id}`, uploadInstructions, uploadToken: `tok${id}` } } };
    }
    if (action === "finalizeUpload") {
      const q = req.body?.finalizeUploadRequest ?? {};
      const v = s.linkedinMedia.get(String(q.video));
      if (!v || (v.owner !== urn(t) && !actsForOrganization(s, t, v.owner, "w_organization_social"))) throw linkedinFail(404, "Video not found");
      const ids: unknown[] = Array.isArray(q.uploadedPartIds) ? q.uploadedPartIds : [];
      if (ids.length !== v.parts || v.received !== v.size) throw linkedinFail(400, "Not every part of the video was uploaded");
      v.status = "AVAILABLE";
      return { json: {} };
    }
    throw linkedinFail(400, "Unsupported action");
  }));

  r.put(`${api}/_upload/:kind/:id{/:part}`, express.raw({ type: () => true, limit: "64mb" }), handle(s, "linkedin.media.upload", (req) => {
    token(req);
    const kind = req.params.kind === "video" ? "video" : "image";
    const m = s.linkedinMedia.get(`urn:li:${kind}:${req.params.id}`);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!m || !body.length) throw new Fail({ status: 400, json: { message: "Upload not found or empty", status: 400 } });
    m.received += body.length;
    if (kind === "image") m.status = "AVAILABLE";
    return { status: 201, headers: { etag: `"/part-${req.params.part ?? 0}-${body.length}"` } };
  }));
}

/** A post's content.media.id must be the author's uploaded, available media. */
export function checkPostMedia(s: SandboxState, author: string, content: any): string[] | undefined {
  const id = content?.media?.id;
  if (id === undefined) return undefined;
  const m = s.linkedinMedia.get(String(id));
  if (!m || m.owner !== author || m.status !== "AVAILABLE") {
    throw new Fail({ status: 422, json: { status: 422, message: `ERROR :: /content/media/id :: ${String(id)} is not an available asset of the author` } });
  }
  return [String(id)];
}
