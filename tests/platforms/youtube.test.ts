// YouTube against the sandbox: channel identity, Google's non-rotating
// refresh token, resumable upload, content rules, quota errors.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { CHUNK_BYTES } from "../../server/platforms/youtube-upload.ts";
import { failure, harness, type Harness } from "./helpers.ts";

describe("YouTube adapter", () => {
  let h: Harness;
  before(async () => {
    // Short timeouts: the upload PUT waits six times longer than other calls.
    h = await harness({ timeoutMs: 500 });
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const yt = () => h.adapters.youtube;
  const video = () => ({ mediaUrl: `${h.sandbox.url}/_media/sample.mp4`, mediaType: "video" });

  it("asks for offline access and connects to channels?mine=true", async () => {
    assert.deepEqual(yt().oauth().authorizationParams, { access_type: "offline", prompt: "consent", include_granted_scopes: "true" });
    const conn = await h.connect("youtube", "vlog");
    const ids = await h.control("/identities/vlog");
    assert.equal(conn.platformUserId, ids.youtubeChannelId);
    assert.equal(conn.platformUsername, "@vlog");
    assert.equal(conn.metadata.uploadsPlaylistId, `UU${ids.youtubeChannelId.slice(2)}`);
    assert.ok(conn.refreshToken);
    assert.equal(conn.expiresAt!.getTime(), h.clock.now().getTime() + 3599_000);
  });

  it("keeps the old refresh token: Google omits it and it keeps working", async () => {
    const conn = await h.connect("youtube");
    h.clock.advance(3600_000);
    assert.equal(yt().classifyError(await failure(yt().validate(conn))).kind, "auth_revoked");
    const a = await yt().refresh(conn);
    const b = await yt().refresh(conn);
    assert.equal(a.refreshToken, conn.refreshToken);
    assert.equal(b.refreshToken, conn.refreshToken);
    await yt().validate({ ...conn, ...b });
    await h.control("/revoke", { token: conn.refreshToken });
    const dead = yt().classifyError(await failure(yt().refresh(conn)));
    assert.deepEqual([dead.kind, dead.code], ["auth_revoked", "refresh_token_invalid"]);
    assert.equal(yt().classifyError(await failure(yt().validate({ ...conn, ...b }))).kind, "auth_revoked", "access tokens die with their grant");
  });

  it("uploads a video by resumable upload and lists it from the uploads playlist", async () => {
    const conn = await h.connect("youtube");
    const since = h.clock.now();
    const { platformPostId } = await yt().publish(conn, { content: "How we bake\nA morning at the bakery", ...video() });
    const calls = (await h.control("/calls")).calls.map((c: any) => c.endpoint);
    assert.deepEqual(calls.filter((c: string) => c.startsWith("youtube.upload")), ["youtube.upload.start", "youtube.upload.put"]);
    const recent = await yt().listRecentPosts(conn, since);
    assert.deepEqual(recent.map((p) => [p.id, p.title, p.text]), [[platformPostId, "How we bake", "How we bake\nA morning at the bakery"]]);
    await h.control("/analytics", { postId: platformPostId, reach: 0, impressions: 300, engagement: 12 });
    assert.deepEqual(await yt().fetchAnalytics!(conn, platformPostId), { reach: 300, impressions: 300, engagement: 12 });
  });

  it("refuses a post without a video, a long title, a long description and angle brackets, by name", async () => {
    assert.deepEqual(yt().checkContent({ content: "Just text" }).map((p) => p.code), ["youtube_video_required"]);
    assert.deepEqual(yt().checkContent({ content: "x", title: "t".repeat(101), ...video() }).map((p) => p.code), ["youtube_title_too_long"]);
    assert.deepEqual(yt().checkContent({ content: "é".repeat(2501), title: "ok", ...video() }).map((p) => p.code), ["youtube_description_too_long"]);
    assert.deepEqual(yt().checkContent({ content: "a <b>", title: "ok", ...video() }).map((p) => p.code), ["youtube_angle_brackets"]);
    const conn = await h.connect("youtube");
    const err = await failure(yt().publish(conn, { content: "Just text" }));
    assert.equal(yt().classifyError(err).code, "youtube_video_required");
    assert.equal((await h.control("/published?platform=youtube")).posts.length, 0);
  });

  it("classifies quotaExceeded, uploadLimitExceeded, 401 and a lost upload answer", async () => {
    const conn = await h.connect("youtube", "tube");
    await h.control("/rate-limit", { platform: "youtube", user: "tube", seconds: 60 });
    const q = yt().classifyError(await failure(yt().publish(conn, { content: "v", ...video() })));
    assert.deepEqual([q.kind, q.code], ["rate_limited", "quotaExceeded"]);
    const hoursAhead = (q.retryAt!.getTime() - h.clock.now().getTime()) / 3600_000;
    assert.ok(hoursAhead > 0 && hoursAhead <= 24, "the next Pacific midnight");
    await h.control("/rate-limit", { platform: "youtube", user: "tube", seconds: 0 });
    await h.control("/faults", { endpoint: "youtube.upload.start", status: 400, body: { error: { code: 400, message: "limit", errors: [{ reason: "uploadLimitExceeded", domain: "youtube.video" }] } } });
    assert.equal(yt().classifyError(await failure(yt().publish(conn, { content: "v", ...video() }))).kind, "rate_limited");
    // The upload and every status query after it unanswered: only then is the outcome unknown.
    await h.control("/faults", { endpoint: "youtube.upload.put", mode: "hang", times: 4 });
    const lost = yt().classifyError(await failure(yt().publish(conn, { content: "v", ...video() })));
    assert.equal(lost.kind, "outcome_unknown");
    assert.equal((await h.control("/published?platform=youtube")).posts.length, 1);
    await h.control("/revoke", { platform: "youtube", user: "tube" });
    assert.equal(yt().classifyError(await failure(yt().validate(conn))).kind, "auth_revoked");
  });

  it("a lost upload answer is resumed by asking the session (bytes */N): one video, not a second upload", async () => {
    const conn = await h.connect("youtube", "resume");
    await h.control("/faults", { endpoint: "youtube.upload.put", mode: "hang", times: 1 });
    const r = await yt().publish(conn, { content: "Resumed", ...video() });
    const puts = (await h.control("/calls?endpoint=youtube.upload.put")).calls.length;
    assert.equal(puts, 2, "the upload, then one status query");
    const live = (await h.control("/published?platform=youtube")).posts;
    assert.deepEqual(live.map((p: any) => p.id), [r.platformPostId]);
  });

  it("uploads in 8 MiB chunks from a streamed download and resumes a dropped chunk where the session stands", async () => {
    const conn = await h.connect("youtube", "chunks");
    const size = CHUNK_BYTES + 70_000;
    // The first chunk is carried out, then the connection drops before the answer.
    await h.control("/faults", { endpoint: "youtube.upload.put", mode: "drop", times: 1 });
    const r = await yt().publish(conn, { content: "Big one", mediaUrl: `${h.sandbox.url}/_media/sized.mp4?bytes=${size}`, mediaType: "video" });
    const puts = (await h.control("/calls?endpoint=youtube.upload.put")).calls.length;
    assert.equal(puts, 3, "chunk 1 (answer lost), a status query, chunk 2 — chunk 1 is not sent again");
    assert.deepEqual((await h.control("/published?platform=youtube")).posts.map((p: any) => p.id), [r.platformPostId]);
  });

  it("reads back the privacy YouTube applied: an unaudited project's upload is private and the result says so", async () => {
    const conn = await h.connect("youtube", "priv");
    const forced = await yt().publish(conn, { content: "Private one", ...video() });
    assert.equal(forced.visibility, "private");
    assert.match(forced.notice ?? "", /private/);
    await h.control("/settings", { youtubeAudited: true }, "PUT");
    const open = await yt().publish(conn, { content: "Public one", ...video() });
    assert.equal(open.visibility, "public");
    assert.equal(open.notice, undefined);
  });

  it("never downloads a loopback URL: neutral error, not the platform's fault, nothing uploaded", async () => {
    const conn = await h.connect("youtube", "ssrf");
    // The sandbox itself listens on loopback, outside the allow-listed /_media/ prefix.
    const err = await failure(yt().publish(conn, { content: "v", mediaUrl: `${h.sandbox.url}/_control/settings`, mediaType: "video" }));
    const c = yt().classifyError(err);
    assert.deepEqual([c.code, c.notPlatform, c.message], ["media_unavailable", true, "The media could not be downloaded"]);
    assert.equal((await h.control("/calls?endpoint=youtube.upload.start")).calls.length, 0);
  });

  it("caps the uploads one post may use: after three sessions it stops instead of spending the project's daily quota", async () => {
    const conn = await h.connect("youtube", "capped");
    const value: Record<string, unknown> = {};
    const state = { get: async () => ({ ...value }), set: async (p: Record<string, unknown>) => void Object.assign(value, p) };
    await h.control("/faults", { endpoint: "youtube.upload.start", status: 503, times: 3, body: { error: { code: 503, message: "backend", errors: [{ reason: "backendError" }] } } });
    for (let i = 0; i < 3; i++) await failure(yt().publish(conn, { content: "Capped", ...video(), state }));
    assert.equal(value.uploads, undefined, "a session that never opened does not count");
    for (let i = 0; i < 3; i++) await yt().publish(conn, { content: `Counted ${i}`, ...video(), state });
    assert.equal(value.uploads, 3);
    const capped = yt().classifyError(await failure(yt().publish(conn, { content: "Fourth", ...video(), state })));
    assert.deepEqual([capped.kind, capped.code], ["permanent", "upload_cap"]);
    assert.equal((await h.control("/calls?endpoint=youtube.upload.start")).calls.length, 6, "no session opened for the fourth");
  });
});
