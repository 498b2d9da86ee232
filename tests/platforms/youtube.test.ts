// YouTube against the sandbox: channel identity, Google's non-rotating
// refresh token, resumable upload, content rules, quota errors.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
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
    await h.control("/faults", { endpoint: "youtube.upload.put", mode: "hang" });
    const lost = yt().classifyError(await failure(yt().publish(conn, { content: "v", ...video() })));
    assert.equal(lost.kind, "outcome_unknown");
    assert.equal((await h.control("/published?platform=youtube")).posts.length, 1);
    await h.control("/revoke", { platform: "youtube", user: "tube" });
    assert.equal(yt().classifyError(await failure(yt().validate(conn))).kind, "auth_revoked");
  });
});
