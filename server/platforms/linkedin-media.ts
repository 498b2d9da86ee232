// LinkedIn takes media only through its upload APIs, never as a URL: an
// image through the Images API (initializeUpload → PUT the bytes → the
// image URN), a video through the Videos API (initializeUpload with the size
// → PUT each part LinkedIn asks for, keeping each part's ETag →
// finalizeUpload). The post then names the URN in content.media.id.
// https://learn.microsoft.com/linkedin/marketing/community-management/shares/images-api
// https://learn.microsoft.com/linkedin/marketing/community-management/shares/videos-api
import { downloadMedia } from "../media/fetch.ts";
import { mediaBytes, withParts } from "../media/read.ts";
import { mediaKind, type AdapterContext } from "./base.ts";
import { PlatformError } from "./errors.ts";
import type { PostInput } from "./types.ts";

type Headers = Record<string, string>;

/** Uploads the post's media for `owner` (a person or organization URN); the URN to put in content.media.id. */
export async function uploadLinkedinMedia(ctx: AdapterContext, accessToken: string, owner: string, headers: Headers, post: PostInput): Promise<string> {
  return mediaKind(post) === "video" ? uploadVideo(ctx, accessToken, owner, headers, post.mediaUrl!) : uploadImage(ctx, accessToken, owner, headers, post.mediaUrl!);
}

async function uploadImage(ctx: AdapterContext, accessToken: string, owner: string, headers: Headers, url: string): Promise<string> {
  const image = await mediaBytes(url, "image", ctx.media);
  const init = await ctx.http.request("image_init", `${ctx.urls.api}/rest/images`, {
    bearer: accessToken,
    headers,
    query: { action: "initializeUpload" },
    json: { initializeUploadRequest: { owner } },
  });
  const { uploadUrl, image: urn } = init.body?.value ?? {};
  if (!uploadUrl || !urn) throw new PlatformError("linkedin", "media_upload_failed", "transient", "LinkedIn opened no image upload");
  await ctx.http.request("media_upload", String(uploadUrl), { method: "PUT", bearer: accessToken, headers: { "content-type": "application/octet-stream" }, body: image.bytes });
  return String(urn);
}

async function uploadVideo(ctx: AdapterContext, accessToken: string, owner: string, headers: Headers, url: string): Promise<string> {
  const video = await downloadMedia(url, "video", ctx.media);
  try {
    const init = await ctx.http.request("video_init", `${ctx.urls.api}/rest/videos`, {
      bearer: accessToken,
      headers,
      query: { action: "initializeUpload" },
      json: { initializeUploadRequest: { owner, fileSizeBytes: video.bytes, uploadCaptions: false, uploadThumbnail: false } },
    });
    const v = init.body?.value ?? {};
    const parts: Array<{ uploadUrl: string; firstByte: number; lastByte: number }> = v.uploadInstructions ?? [];
    if (!v.video || !parts.length) throw new PlatformError("linkedin", "media_upload_failed", "transient", "LinkedIn opened no video upload");
    const etags: string[] = [];
    await withParts(video.path, async (read) => {
      // One part at a time: LinkedIn's parts are about 4 MB, so memory stays small.
      for (const part of parts) {
        const size = Number(part.lastByte) - Number(part.firstByte) + 1;
        const chunk = await read(Number(part.firstByte), size);
        const r = await ctx.http.request("media_upload", String(part.uploadUrl), {
          method: "PUT",
          bearer: accessToken,
          headers: { "content-type": "application/octet-stream" },
          body: chunk,
          timeoutMs: ctx.http.timeoutMs * 3,
        });
        const etag = r.headers.get("etag");
        if (!etag) throw new PlatformError("linkedin", "media_upload_failed", "transient", "LinkedIn returned no ETag for a video part");
        etags.push(etag);
      }
    });
    await ctx.http.request("video_finalize", `${ctx.urls.api}/rest/videos`, {
      bearer: accessToken,
      headers,
      query: { action: "finalizeUpload" },
      json: { finalizeUploadRequest: { video: v.video, uploadToken: v.uploadToken ?? "", uploadedPartIds: etags } },
    });
    return String(v.video);
  } finally {
    await video.dispose();
  }
}
