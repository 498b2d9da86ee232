// Facebook and Instagram as Meta really behaves (PLATFORMS.md, "Corrections"):
// every Instagram container is processed before it can be published, Reels
// for minutes, and the wait resumes on the next attempt with the same
// container; the error table (9007 not ready, "make a new container",
// spam restriction, 341/368, permission errors that a reconnect cannot fix);
// current insight metrics with their scopes; Business-Manager Page roles;
// and re-asking declined permissions with auth_type=rerequest.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Platform } from "../../shared/schema.ts";
import type { NewConnection, PlatformStateStore } from "../../server/platforms/types.ts";
import { failure, harness, type AuthorizeOptions, type Harness } from "./helpers.ts";

/** The runner's per-post store, in memory. */
function memoryState(): PlatformStateStore & { value: Record<string, unknown> } {
  const store = {
    value: {} as Record<string, unknown>,
    async get() {
      return { ...store.value };
    },
    async set(patch: Record<string, unknown>) {
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete store.value[k];
        else store.value[k] = v;
      }
    },
  };
  return store;
}

describe("Meta: containers, errors, insights, permissions", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const ig = () => h.adapters.instagram;
  const fb = () => h.adapters.facebook;
  const image = () => ({ mediaUrl: `${h.sandbox.url}/_media/sample.jpg`, mediaType: "image/jpeg" });
  const calls = async (endpoint: string) => (await h.control(`/calls?endpoint=${endpoint}`)).calls.length;

  async function connectWith(platform: Platform, user: string, o: AuthorizeOptions = {}): Promise<NewConnection> {
    const back = await h.authorize(platform, { user, ...o });
    const tokens = await h.adapters[platform].exchangeCode({ code: back.searchParams.get("code")! });
    const shaped = await h.adapters[platform].shapeConnection(tokens);
    assert.equal(shaped.kind, "connection");
    return (shaped as { connection: NewConnection }).connection;
  }

  it("an image container is processed first: publishing waits for FINISHED instead of answering 9007", async () => {
    const conn = await h.connect("instagram", "imgwait");
    // Long enough that an immediate media_publish would be refused with 9007.
    await h.control("/settings", { igImageProcessingMs: 400 }, "PUT");
    const state = memoryState();
    let published: string | undefined;
    // Bounded waits: an attempt may end "still processing"; the next one resumes with the same container.
    for (let i = 0; i < 10 && !published; i++) {
      try {
        published = (await ig().publish(conn, { content: "Fresh loaf", ...image(), state })).platformPostId;
      } catch (err) {
        assert.equal(ig().classifyError(err).code, "media_processing");
      }
    }
    assert.ok(published);
    assert.equal(await calls("instagram.media.create"), 1, "one container, reused");
    assert.ok((await calls("graph.node")) >= 1, "its status was asked");
    assert.equal((await h.control("/published?platform=instagram")).posts.length, 1);
  });

  it("a Reel that processes for minutes: the attempt gives up in bounds, keeps the container, and the retry publishes it without a new upload", async () => {
    const conn = await h.connect("instagram", "reel");
    const state = memoryState();
    const reel = { content: "Our kitchen", mediaUrl: `${h.sandbox.url}/_media/sample.mp4`, mediaType: "video/mp4", state };
    const slow = ig().classifyError(await failure(ig().publish(conn, reel)));
    assert.deepEqual([slow.kind, slow.code], ["transient", "media_processing"]);
    assert.equal(typeof state.value.containerId, "string");
    h.clock.advance(3 * 60_000);
    const { platformPostId } = await ig().publish(conn, reel);
    assert.ok(platformPostId);
    assert.equal(await calls("instagram.media.create"), 1, "Meta did not download the video again");
    // Another caption is another container.
    await h.control("/settings", { igVideoProcessingMs: 0 }, "PUT");
    await ig().publish(conn, { ...reel, content: "Something else" });
    assert.equal(await calls("instagram.media.create"), 2);
  });

  it("a kept container that an earlier attempt already published is never published again: the outcome is unknown", async () => {
    const conn = await h.connect("instagram", "twice");
    await h.control("/settings", { igImageProcessingMs: 0 }, "PUT");
    const state = memoryState();
    // The publish is carried out but its answer lost.
    await h.control("/faults", { endpoint: "instagram.media_publish", mode: "drop" });
    assert.equal(ig().classifyError(await failure(ig().publish(conn, { content: "Once", ...image(), state }))).kind, "outcome_unknown");
    const again = ig().classifyError(await failure(ig().publish(conn, { content: "Once", ...image(), state })));
    assert.deepEqual([again.kind, again.code], ["outcome_unknown", "container_published"]);
    assert.equal((await h.control("/published?platform=instagram")).posts.length, 1);
  });

  it("classifies the Graph error table as PLATFORMS.md says", async () => {
    const conn = await h.connect("instagram", "errs");
    await h.control("/settings", { igImageProcessingMs: 0 }, "PUT");
    const graph = (code: number, subcode: number | undefined, message: string, status = 400) => ({
      endpoint: "instagram.media_publish",
      status,
      body: { error: { message, type: "OAuthException", code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: "t" } },
    });
    const cases: Array<[ReturnType<typeof graph>, string, string, boolean?]> = [
      [graph(9007, 2207027, "Media ID is not available"), "transient", "media_not_ready"],
      [graph(-1, undefined, "An unexpected error has occurred"), "transient", "graph_-1"],
      [graph(-2, 2207003, "Timeout"), "transient", "graph_-2_2207003"],
      [graph(2, 2207032, "Create a new container"), "transient", "graph_2_2207032"],
      [graph(4, 2207051, "Action is blocked"), "permanent", "instagram_restricted"],
      [graph(341, undefined, "Application limit reached"), "rate_limited", "rate_limited"],
      [graph(368, undefined, "Temporarily blocked for policies violations"), "rate_limited", "rate_limited"],
      [graph(10, undefined, "(#10) Application does not have permission for this action", 403), "transient", "app_permission", true],
      [graph(200, undefined, "(#200) The user hasn't authorized the application to perform this action", 403), "auth_revoked", "permission_missing"],
      [graph(200, undefined, "(#200) Permissions error", 403), "permanent", "permission_denied"],
    ];
    for (const [fault, kind, code, operator] of cases) {
      const state = memoryState();
      await h.control("/faults", fault);
      const c = ig().classifyError(await failure(ig().publish(conn, { content: `case ${code}`, ...image(), state })));
      assert.deepEqual([c.kind, c.code, c.operator ?? false], [kind, code, operator ?? false], JSON.stringify(fault.body));
      const fresh = [-1, -2].includes(fault.body.error.code) || [2207003, 2207032].includes(fault.body.error.error_subcode ?? 0);
      assert.equal(typeof state.value.containerId === "string", !fresh, `${code}: container ${fresh ? "dropped" : "kept"}`);
    }
  });

  it("reads current insight metrics (retired names fail the whole call) with read_insights / instagram_manage_insights", async () => {
    const page = await h.connect("facebook", "stats");
    const { platformPostId: fbPost } = await fb().publish(page, { content: "Counted" });
    await h.control("/analytics", { postId: fbPost, reach: 40, impressions: 55, engagement: 7 });
    assert.deepEqual(await fb().fetchAnalytics!(page, fbPost), { reach: 40, impressions: 55, engagement: 7 });
    const igConn = await h.connect("instagram", "stats");
    await h.control("/settings", { igImageProcessingMs: 0 }, "PUT");
    const { platformPostId: igPost } = await ig().publish(igConn, { content: "Counted too", ...image() });
    await h.control("/analytics", { postId: igPost, reach: 12, impressions: 30, engagement: 4 });
    assert.deepEqual(await ig().fetchAnalytics!(igConn, igPost), { reach: 12, impressions: 30, engagement: 4 });
    assert.ok(fb().oauth().scope.includes("read_insights"));
    assert.ok(ig().oauth().scope.includes("instagram_manage_insights"));
  });

  it("a Page managed through Business Manager: publishing works with business_management (and ads_read for Instagram)", async () => {
    await h.control("/pages", { user: "agency", pages: [{ name: "Client Cafe", instagram: true, businessManaged: true }] });
    const page = await h.connect("facebook", "agency");
    await fb().publish(page, { content: "Through the agency" });
    const igConn = await h.connect("instagram", "agency");
    await h.control("/settings", { igImageProcessingMs: 0 }, "PUT");
    await ig().publish(igConn, { content: "Through the agency", ...image() });
    // Declined, the same Page refuses with a permission error a reconnect can fix.
    const limited = await connectWith("facebook", "agency2", { declined: ["business_management"] });
    await h.control("/pages", { user: "agency2", pages: [{ name: "Client Bar", businessManaged: true }] });
    const again = await connectWith("facebook", "agency2", { declined: ["business_management"] });
    void limited;
    const refused = fb().classifyError(await failure(fb().publish(again, { content: "Refused" })));
    assert.deepEqual([refused.kind, refused.code], ["auth_revoked", "permission_missing"]);
  });

  it("a reconnect re-asks declined permissions with auth_type=rerequest (prompt=consent would not)", async () => {
    assert.equal(fb().oauth().authorizationParams.auth_type, "rerequest");
    const first = await connectWith("facebook", "decliner", { declined: ["pages_manage_posts"] });
    const refused = fb().classifyError(await failure(fb().publish(first, { content: "Needs the permission" })));
    assert.deepEqual([refused.kind, refused.code], ["auth_revoked", "permission_missing"]);
    // Without rerequest, Facebook does not ask again: still no permission.
    const stale = await connectWith("facebook", "decliner", { without: ["auth_type"] });
    assert.equal(fb().classifyError(await failure(fb().publish(stale, { content: "Still refused" }))).code, "permission_missing");
    // Our reconnect asks again, and the user grants it.
    const fixed = await connectWith("facebook", "decliner");
    await fb().publish(fixed, { content: "Now it works" });
    assert.equal((await h.control("/published?platform=facebook")).posts.length, 1);
  });
});
