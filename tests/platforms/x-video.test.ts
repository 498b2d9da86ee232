// Video on X against the sandbox over HTTP: the chunked upload (initialize,
// append by 4 MiB segment, finalize), STATUS until processing succeeded, then
// ONE post naming the media id; processing that outlasts an attempt resumed
// from the id kept on the post (no second upload), an id near its 24-hour
// expiry uploaded again; failed processing a permanent failure with X's
// reason; the sandbox refusing what X refuses; pre-flight rules by name; and
// once through the runner and the database.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { posts } from "../../shared/schema.ts";
import { ContentRejectedError, PlatformError } from "../../server/platforms/errors.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { FAST_PUBLISHING, publisher } from "../posts/helpers.ts";
import { adaptersFor, failure, harness, memoryState, type Harness } from "./helpers.ts";


const MiB = 1024 * 1024;

describe("X video (adapter and sandbox)", () => {
  let h: Harness;
  before(async () => {
    // A 4 s platform timeout: one attempt waits up to 6 s for processing.
    h = await harness({ timeoutMs: 4000 });
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const x = () => h.adapters.x;
  const video = (bytes: number, name = "sized.mp4") => ({ mediaUrl: `${h.sandbox.url}/_media/${name}?bytes=${bytes}`, mediaType: "video/mp4" });
  const calls = async (prefix: string) => (await h.control("/calls")).calls.map((c: { endpoint: string }) => c.endpoint).filter((e: string) => e.startsWith(prefix));
  const count = async (endpoint: string) => (await h.control(`/calls?endpoint=${endpoint}`)).calls.length;
  const published = async () => (await h.control("/published?platform=x")).posts;

  it("uploads in segments (initialize, append ×3, finalize), waits for processing, then posts naming the one media id", async () => {
    await h.control("/settings", { xVideoProcessingMs: 1500 }, "PUT");
    const conn = await h.connect("x", "xvid");
    const state = memoryState();
    // A wait bound (1.5 × the platform timeout) far past the 1.5 s of processing, measured in real
    // time: on a loaded machine slow answers must not end this attempt's wait early.
    const patient = adaptersFor(h.sandbox.url, h.clock, 10_000).adapters.x;
    const { platformPostId } = await patient.publish(conn, { content: "Our kitchen in 30 seconds", ...video(9 * MiB), state });
    const seq = await calls("x.");
    const upload = seq.filter((e: string) => e.startsWith("x.media.") || e === "x.tweets.create");
    const statuses = upload.filter((e: string) => e === "x.media.status").length;
    assert.ok(statuses >= 1, "STATUS asked while X processed");
    assert.deepEqual(upload, ["x.media.init", "x.media.append", "x.media.append", "x.media.append", "x.media.finalize", ...Array(statuses).fill("x.media.status"), "x.tweets.create"]);
    const [post] = await published();
    assert.equal(post.id, platformPostId);
    assert.equal(post.mediaIds.length, 1);
    assert.equal(post.mediaIds[0], state.value.xVideoMediaId, "the kept id is the one posted");
  });

  it("processing that outlasts one attempt: transient, the media id kept; the retry resumes with STATUS and uploads nothing again", async () => {
    await h.control("/settings", { xVideoProcessingMs: 120_000 }, "PUT");
    const conn = await h.connect("x", "xslow");
    const state = memoryState();
    const post = { content: "A slow one", ...video(5 * MiB), state };
    const first = x().classifyError(await failure(x().publish(conn, post)));
    assert.deepEqual([first.kind, first.code, first.notPlatform], ["transient", "media_processing", true], "the user's video, not X's health: the breaker does not move");
    assert.match(String(state.value.xVideoMediaId), /^\d+$/);
    assert.equal((await published()).length, 0, "never posted while processing");
    h.clock.advance(3 * 60_000);
    const { platformPostId } = await x().publish(conn, post);
    assert.equal(await count("x.media.init"), 1, "one upload session");
    assert.equal(await count("x.media.append"), 2, "each segment sent once");
    assert.deepEqual((await published()).map((p: { id: string; mediaIds: string[] }) => [p.id, p.mediaIds]), [[platformPostId, [state.value.xVideoMediaId]]]);
  });

  it("a kept media id within an hour of X's 24-hour expiry is forgotten: the next attempt uploads again", async () => {
    await h.control("/settings", { xVideoProcessingMs: 120_000 }, "PUT");
    const conn = await h.connect("x", "xold");
    const state = memoryState();
    const post = { content: "Yesterday's clip", ...video(MiB), state };
    await failure(x().publish(conn, post));
    const firstId = state.value.xVideoMediaId;
    h.clock.advance(23.5 * 3600_000);
    await h.control("/settings", { xVideoProcessingMs: 0 }, "PUT");
    // A day later the access token has expired too: connect again (the runner would refresh it).
    await x().publish(await h.connect("x", "xold"), post);
    assert.equal(await count("x.media.init"), 2);
    assert.notEqual(state.value.xVideoMediaId, firstId);
    assert.deepEqual((await published()).map((p: { mediaIds: string[] }) => p.mediaIds), [[state.value.xVideoMediaId]]);
  });

  it("failed processing fails the post permanently with X's reason, and forgets the media id", async () => {
    await h.control("/settings", { xVideoProcessingMs: 0, xVideoProcessingError: "Unsupported video format" }, "PUT");
    const conn = await h.connect("x", "xfail");
    const state = memoryState();
    const err = await failure(x().publish(conn, { content: "Broken clip", ...video(MiB), state }));
    assert.ok(err instanceof PlatformError);
    const c = x().classifyError(err);
    assert.deepEqual([c.kind, c.code, c.notPlatform], ["permanent", "media_processing_failed", true]);
    assert.match(c.message, /X could not process the video: Unsupported video format/);
    assert.equal(state.value.xVideoMediaId, undefined);
    assert.equal((await published()).length, 0);
  });

  it("a segment whose answer is lost is sent again (it replaces itself); a lost finalize answer is transient, never an outcome to reconcile", async () => {
    await h.control("/settings", { xVideoProcessingMs: 0 }, "PUT");
    const conn = await h.connect("x", "xlost");
    await h.control("/faults", { endpoint: "x.media.append", mode: "drop" });
    await x().publish(conn, { content: "Dropped segment", ...video(5 * MiB), state: memoryState() });
    assert.equal(await count("x.media.append"), 3, "two segments, the dropped one sent twice");
    assert.equal((await published()).length, 1);
    await h.control("/faults", { endpoint: "x.media.finalize", mode: "drop" });
    const lost = x().classifyError(await failure(x().publish(conn, { content: "Dropped finalize", ...video(MiB), state: memoryState() })));
    assert.deepEqual([lost.kind, lost.code], ["transient", "media_upload_unanswered"]);
    assert.equal((await published()).length, 1, "nothing more was posted");
  });

  it("a post X refuses for its media ('Your media IDs are invalid.') forgets the kept id, so a retry uploads again", async () => {
    await h.control("/settings", { xVideoProcessingMs: 0 }, "PUT");
    const conn = await h.connect("x", "xrefused");
    const state = memoryState();
    const body = { errors: [{ message: "Your media IDs are invalid." }], title: "Invalid Request", detail: "One or more parameters to your request was invalid.", type: "https://api.twitter.com/2/problems/invalid-request" };
    await h.control("/faults", { endpoint: "x.tweets.create", status: 400, body });
    await failure(x().publish(conn, { content: "Refused media", ...video(MiB), state }));
    assert.equal(state.value.xVideoMediaId, undefined);
    await x().publish(conn, { content: "Refused media", ...video(MiB), state });
    assert.equal(await count("x.media.init"), 2);
  });

  it("the sandbox refuses what X refuses: a segment out of order or over 5 MB, a short finalize, a post naming a video still processing", async () => {
    const conn = await h.connect("x", "xraw");
    const api = `${h.sandbox.url}/x-api/2`;
    const auth = { authorization: `Bearer ${conn.accessToken}` };
    const json = (path: string, body?: unknown) =>
      fetch(`${api}${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const append = (id: string, index: number, bytes: number) => {
      const form = new FormData();
      form.set("segment_index", String(index));
      form.set("media", new Blob([new Uint8Array(bytes)]), "chunk");
      return fetch(`${api}/media/upload/${id}/append`, { method: "POST", headers: auth, body: form });
    };
    const init = await (await json("/media/upload/initialize", { media_type: "video/mp4", total_bytes: 2000, media_category: "tweet_video" })).json();
    const id = init.data.id;
    const outOfOrder = await append(id, 1, 1000);
    assert.equal(outOfOrder.status, 400);
    assert.match(JSON.stringify(await outOfOrder.json()), /segment 1 sent before segment 0/);
    const tooBig = await append(id, 0, 5 * MiB + 1);
    assert.equal(tooBig.status, 400);
    assert.equal((await tooBig.json()).title, "Invalid Request");
    assert.equal((await append(id, 0, 1000)).status, 200);
    const short = await json(`/media/upload/${id}/finalize`);
    assert.equal(short.status, 400);
    assert.match(JSON.stringify(await short.json()), /received 1000 bytes of the 2000/);
    assert.equal((await append(id, 1, 1000)).status, 200);
    await h.control("/settings", { xVideoProcessingMs: 60_000 }, "PUT");
    const fin = (await (await json(`/media/upload/${id}/finalize`)).json()).data;
    assert.deepEqual([fin.id, fin.processing_info.state], [id, "pending"]);
    const early = await json("/tweets", { text: "Too soon", media: { media_ids: [id] } });
    assert.equal(early.status, 400);
    assert.equal((await early.json()).errors[0].message, "Your media IDs are invalid.");
    const status = await (await fetch(`${api}/media/upload?command=STATUS&media_id=${id}`, { headers: auth })).json();
    assert.ok(["pending", "in_progress"].includes(status.data.processing_info.state));
    h.clock.advance(60_000);
    assert.equal((await json("/tweets", { text: "Now", media: { media_ids: [id] } })).status, 201);
  });

  it("pre-flight names the rules before any call: a video alone, MP4 or MOV", async () => {
    const codes = (items: string[]) => x().checkContent({ content: "Rules", mediaUrl: items[0], mediaUrls: items }).map((p) => p.code);
    const url = (n: string) => `${h.sandbox.url}/_media/${n}`;
    assert.deepEqual(codes([url("a.mp4")]), []);
    assert.deepEqual(codes([url("a.mov")]), []);
    assert.deepEqual(codes([url("a.webm")]), ["x_video_format"]);
    assert.deepEqual(codes([url("a.jpg"), url("b.mp4")]), ["x_video_alone"]);
    assert.deepEqual(codes([url("a.mp4"), url("b.mov")]), ["x_video_alone"]);
    const conn = await h.connect("x", "xrules");
    const err = await failure(x().publish(conn, { content: "Two clips", mediaUrl: url("a.mp4"), mediaUrls: [url("a.mp4"), url("b.mp4")] }));
    assert.ok(err instanceof ContentRejectedError);
    assert.match(err.message, /X shows a video alone/);
    assert.equal((await calls("x.media.")).length, 0);
  });
});

describe("X video through the runner and the database", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());
  const count = async (endpoint: string) => ((await (await fetch(`${sandbox}/_control/calls?endpoint=${endpoint}`)).json()) as { calls: unknown[] }).calls.length;

  it("a video still processing keeps its media id in platform_state; the retry posts it without uploading again", async () => {
    const u = await publisher(server, ["x"], "xvideo1");
    await fetch(`${sandbox}/_control/settings`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ xVideoProcessingMs: 120_000 }) });
    const mediaUrl = `${sandbox}/_media/sized.mp4?bytes=${6 * MiB}`;
    const draft = (await u.client.post("/api/posts", { platform: "x", content: "Clip through the runner", mediaUrl, status: "approved" })).body;
    const first = await publishRunner(server.deps).drain({ postIds: [draft.id] });
    assert.equal(first.retried, 1, JSON.stringify(first.errors));
    const [waiting] = await server.deps.db.select().from(posts).where(eq(posts.id, draft.id));
    const kept = (waiting!.platformState as { xVideoMediaId?: string }).xVideoMediaId;
    assert.match(String(kept), /^\d+$/, "the media id is on the post");
    server.clock.advance(3 * 60_000);
    const second = await publishRunner(server.deps).drain({ postIds: [draft.id] });
    assert.equal(second.published, 1, JSON.stringify(second.errors));
    assert.deepEqual([await count("x.media.init"), await count("x.media.append")], [1, 2]);
    const out = ((await (await fetch(`${sandbox}/_control/published?platform=x`)).json()) as { posts: Array<{ text: string; mediaIds: string[] }> }).posts;
    assert.deepEqual(out.filter((p) => p.text === "Clip through the runner").map((p) => p.mediaIds), [[kept]]);
  });
});
