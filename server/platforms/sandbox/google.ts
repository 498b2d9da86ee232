// YouTube Data API v3: my channel, resumable upload (metadata, then bytes),
// the uploads playlist, video statistics; and a sample video to upload.
import express, { type Request, type Router } from "express";
import { bearer, googleFail, handle, params, type Reply } from "./kit.ts";
import { ids, type SandboxState, type Token } from "./state.ts";

// A few bytes shaped like an MP4 header: the sandbox only checks that bytes arrive.
const SAMPLE_VIDEO = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypmp42"), Buffer.alloc(1024, 7)]);
const SAMPLE_IMAGE = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(512, 1), Buffer.from([0xff, 0xd9])]);

export function googleRoutes(s: SandboxState): Router {
  const r = express.Router();
  const yt = "/googleapis/youtube/v3";

  function token(req: Request): Token {
    const st = s.tokenState("google", bearer(req));
    if (st.problem) {
      throw googleFail(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "UNAUTHENTICATED");
    }
    if (s.rateLimitedUntil("youtube", st.token!.user) !== undefined) {
      throw googleFail(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.", "PERMISSION_DENIED", "youtube.quota");
    }
    return st.token!;
  }
  const channel = (t: Token) => ids.channel(t.user);
  const uploads = (t: Token) => `UU${channel(t).slice(2)}`;

  r.get(`${yt}/channels`, handle(s, "youtube.channels", (req) => {
    const t = token(req);
    const items = params(req).mine === "true"
      ? [{ kind: "youtube#channel", id: channel(t), snippet: { title: `${t.user} Channel`, customUrl: `@${t.user.toLowerCase()}`, description: "" }, contentDetails: { relatedPlaylists: { likes: "", uploads: uploads(t) } } }]
      : [];
    return { json: { kind: "youtube#channelListResponse", pageInfo: { totalResults: items.length, resultsPerPage: 5 }, items } };
  }));

  r.post("/googleapis/upload/youtube/v3/videos", handle(s, "youtube.upload.start", (req) => {
    const t = token(req);
    const p = params(req);
    if (p.uploadType !== "resumable") throw googleFail(400, "invalidParameter", "uploadType must be resumable", "INVALID_ARGUMENT");
    const snippet = req.body?.snippet ?? {};
    const title = typeof snippet.title === "string" ? snippet.title : "";
    const description = typeof snippet.description === "string" ? snippet.description : "";
    if (!title.trim() || [...title].length > 100 || /[<>]/.test(title)) throw googleFail(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.", "INVALID_ARGUMENT", "youtube.video");
    if (Buffer.byteLength(description) > 5000 || /[<>]/.test(description)) throw googleFail(400, "invalidDescription", "The request metadata specifies an invalid video description.", "INVALID_ARGUMENT", "youtube.video");
    const uploadId = s.secret("AEnB2U");
    const declared = Number(req.get("x-upload-content-length"));
    const privacy = typeof req.body?.status?.privacyStatus === "string" ? req.body.status.privacyStatus : "public";
    s.uploads.set(uploadId, { user: t.user, channel: channel(t), title, description, ...(Number.isFinite(declared) && declared > 0 ? { total: declared } : {}), privacy });
    const location = `${req.protocol}://${req.get("host")}${req.baseUrl}/googleapis/upload/youtube/v3/videos?uploadType=resumable&upload_id=${uploadId}`;
    return { headers: { location } };
  }));

  r.put(
    "/googleapis/upload/youtube/v3/videos",
    express.raw({ type: () => true, limit: "200mb" }),
    handle(s, "youtube.upload.put", (req): Reply => {
      const t = token(req);
      const upload = s.uploads.get(params(req).upload_id ?? "");
      if (!upload || upload.user !== t.user) throw googleFail(404, "notFound", "The upload session was not found.", "NOT_FOUND");
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      // Resumable protocol: "bytes a-b/total" carries a chunk, "bytes */total" asks how much arrived.
      const range = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(req.get("content-range") ?? "");
      if (range) {
        const total = range[3] === "*" ? undefined : Number(range[3]);
        if (total !== undefined) upload.total = total;
        if (range[1] !== undefined) {
          if (Number(range[1]) !== (upload.received ?? 0)) throw googleFail(400, "badContent", "The chunk does not start where the upload stands.", "INVALID_ARGUMENT");
          upload.received = (upload.received ?? 0) + body.length;
        }
        if (upload.done) return { json: upload.done };
        if (upload.total === undefined || (upload.received ?? 0) < upload.total) {
          return { status: 308, headers: upload.received ? { range: `bytes=0-${upload.received - 1}` } : ({} as Record<string, string>) };
        }
      } else {
        if (upload.done) return { json: upload.done };
        if (body.length === 0) throw googleFail(400, "badContent", "The uploaded file is empty.", "INVALID_ARGUMENT");
      }
      const id = s.secret("").slice(0, 11);
      const publishedAt = new Date(s.now()).toISOString();
      s.publish({ platform: "youtube", id, user: t.user, account: upload.channel, text: upload.description, title: upload.title, createdAt: s.now() });
      // An API project Google has not audited may only upload private videos, whatever was asked.
      const privacyStatus = s.settings.youtubeAudited ? upload.privacy : "private";
      upload.done = {
        kind: "youtube#video",
        id,
        snippet: { publishedAt, channelId: upload.channel, title: upload.title, description: upload.description },
        status: { uploadStatus: "uploaded", privacyStatus },
      };
      return { json: upload.done };
    }),
  );

  r.get(`${yt}/playlistItems`, handle(s, "youtube.playlistItems", (req) => {
    const t = token(req);
    if (params(req).playlistId !== uploads(t)) throw googleFail(404, "playlistNotFound", "The playlist identified with the request's playlistId parameter cannot be found.", "NOT_FOUND", "youtube.playlistItem");
    const max = Math.min(Number(params(req).maxResults ?? 5) || 5, 50);
    const items = s.postsOf("youtube", channel(t))
      .slice()
      .reverse() // among equal times, the later one first
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, max)
      .map((x) => {
        const at = new Date(x.createdAt).toISOString();
        return {
          kind: "youtube#playlistItem",
          id: `PLI${x.id}`,
          snippet: { publishedAt: at, channelId: x.account, title: x.title, description: x.text, playlistId: uploads(t), resourceId: { kind: "youtube#video", videoId: x.id } },
          contentDetails: { videoId: x.id, videoPublishedAt: at },
        };
      });
    return { json: { kind: "youtube#playlistItemListResponse", pageInfo: { totalResults: items.length, resultsPerPage: max }, items } };
  }));

  r.get(`${yt}/videos`, handle(s, "youtube.videos", (req) => {
    token(req);
    const wanted = (params(req).id ?? "").split(",");
    const items = wanted
      .map((id) => s.postById(id))
      .filter((x) => x?.platform === "youtube")
      .map((x) => x!)
      .map((x) => {
        const m = s.analytics.get(x.id) ?? { reach: 0, impressions: 0, engagement: 0 };
        return { kind: "youtube#video", id: x.id, statistics: { viewCount: String(m.impressions), likeCount: String(m.engagement), favoriteCount: "0", commentCount: "0" } };
      });
    return { json: { kind: "youtube#videoListResponse", items } };
  }));

  return r;
}

/** Sample media the product can point posts at in sandbox mode. */
export function mediaRoutes(): Router {
  const r = express.Router();
  r.get("/_media/sample.mp4", (_req, res) => void res.type("video/mp4").send(SAMPLE_VIDEO));
  r.get("/_media/sample.jpg", (_req, res) => void res.type("image/jpeg").send(SAMPLE_IMAGE));
  // A video of a chosen size (at most 64 MiB), for chunked uploads and byte caps.
  r.get("/_media/sized.mp4", (req, res) => {
    const bytes = Math.min(Math.max(Number(req.query.bytes) || 0, 0), 64 * 1024 * 1024);
    res.type(typeof req.query.type === "string" ? req.query.type : "video/mp4").setHeader("content-length", String(bytes));
    const block = Buffer.alloc(64 * 1024, 7);
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  return r;
}
