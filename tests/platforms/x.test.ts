// X against the sandbox: PKCE connect, publish, weighted length, duplicates,
// rotating refresh tokens, rate limits with x-rate-limit-reset, timeouts.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ContentRejectedError } from "../../server/platforms/errors.ts";
import { freePort } from "../support/server.ts";
import { adaptersFor, failure, harness, type Harness } from "./helpers.ts";

describe("X adapter", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const x = () => h.adapters.x;

  it("connects with PKCE and shapes the connection from /2/users/me", async () => {
    const conn = await h.connect("x", "xuser");
    const ids = await h.control("/identities/xuser");
    assert.equal(conn.platformUserId, ids.xUserId);
    assert.equal(conn.platformUsername, "xuser");
    assert.ok(conn.refreshToken, "offline.access gives a refresh token");
    assert.equal(conn.expiresAt!.getTime(), h.clock.now().getTime() + 7200_000);
    assert.deepEqual(conn.scopes, ["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"]);
    assert.deepEqual(await x().validate(conn), {});
  });

  it("publishes, lists recent posts, refuses a duplicate as a permanent duplicate", async () => {
    const conn = await h.connect("x");
    const since = h.clock.now();
    const { platformPostId } = await x().publish(conn, { content: "Fresh bread at 7 https://example.com/bakery" });
    const recent = await x().listRecentPosts(conn, since);
    assert.deepEqual(recent.map((p) => p.id), [platformPostId]);
    assert.equal(recent[0]!.text, "Fresh bread at 7 https://example.com/bakery");
    const dup = x().classifyError(await failure(x().publish(conn, { content: "Fresh bread at 7 https://example.com/bakery" })));
    assert.equal(dup.kind, "permanent");
    assert.equal(dup.duplicate, true);
    assert.equal((await h.control("/published?platform=x")).posts.length, 1);
  });

  it("counts length as X does: 281 weighted characters is refused by name, 280 passes", async () => {
    assert.equal(x().checkContent({ content: "日".repeat(140) }).length, 0);
    const long = x().checkContent({ content: "日".repeat(140) + "a" });
    assert.equal(long[0]!.code, "x_too_long");
    assert.equal(long[0]!.actual, 281);
    assert.equal(x().checkContent({ content: "😀".repeat(140) }).length, 0);
    assert.equal(x().checkContent({ content: "a".repeat(256) + " https://example.com/very/long/path" }).length, 0, "a link counts 23");
    assert.equal(x().checkContent({ content: "a".repeat(257) + " https://example.com/very/long/path" })[0]!.code, "x_too_long");
    const conn = await h.connect("x");
    const err = await failure(x().publish(conn, { content: "e\u0301".repeat(281) }));
    assert.ok(err instanceof ContentRejectedError);
    assert.equal(x().classifyError(err).code, "x_too_long");
    assert.equal((await h.control("/published?platform=x")).posts.length, 0, "nothing was sent");
  });

  it("rotates refresh tokens: the new one works, the old one is dead", async () => {
    const conn = await h.connect("x");
    h.clock.advance(7200_000);
    assert.equal(x().classifyError(await failure(x().validate(conn))).kind, "auth_revoked", "expired access token → 401");
    const next = await x().refresh(conn);
    assert.notEqual(next.refreshToken, conn.refreshToken);
    assert.equal(next.expiresAt!.getTime(), h.clock.now().getTime() + 7200_000);
    await x().validate({ ...conn, ...next });
    const replay = x().classifyError(await failure(x().refresh(conn)));
    assert.equal(replay.kind, "auth_revoked");
    assert.equal(replay.code, "refresh_token_invalid");
    const again = await x().refresh({ ...conn, ...next });
    assert.ok(again.refreshToken);
  });

  it("classifies 429 with x-rate-limit-reset, 401 after a revoke, 5xx, a timeout and an unreachable host", async () => {
    const conn = await h.connect("x", "busy");
    const until = new Date(h.clock.now().getTime() + 600_000);
    await h.control("/rate-limit", { platform: "x", user: "busy", until: until.toISOString() });
    const limited = x().classifyError(await failure(x().publish(conn, { content: "hello" })));
    assert.equal(limited.kind, "rate_limited");
    assert.equal(limited.retryAt!.getTime(), Math.ceil(until.getTime() / 1000) * 1000);

    const other = await h.connect("x", "other");
    await h.control("/faults", { endpoint: "x.tweets.create", status: 503, body: { title: "Service Unavailable", detail: "Service Unavailable", type: "about:blank", status: 503 } });
    assert.equal(x().classifyError(await failure(x().publish(other, { content: "one" }))).kind, "transient");

    await h.control("/faults", { endpoint: "x.tweets.create", mode: "hang" });
    const lost = x().classifyError(await failure(x().publish(other, { content: "two" })));
    assert.equal(lost.kind, "outcome_unknown");
    const published = (await h.control("/published?platform=x&user=other")).posts;
    assert.deepEqual(published.map((p: any) => p.text), ["two"], "carried out although unanswered");
    // The listing reconciliation reads (server/posts/reconcile.ts) shows it with its id and text.
    const recent = await x().listRecentPosts(other, new Date(h.clock.now().getTime() - 60_000));
    assert.deepEqual(recent.map((p) => [p.id, p.text]), [[published[0].id, "two"]]);

    await h.control("/revoke", { platform: "x", user: "other" });
    assert.equal(x().classifyError(await failure(x().validate(other))).kind, "auth_revoked");

    // A port nobody listens on: the request never left, so nothing happened there.
    const dead = adaptersFor(`http://127.0.0.1:${await freePort()}`, h.clock).adapters;
    const unreachable = dead.x.classifyError(await failure(dead.x.publish(other, { content: "three" })));
    assert.equal(unreachable.kind, "transient");
    assert.equal(unreachable.code, "unreachable");
  });

  it("refuses the token exchange without the PKCE verifier", async () => {
    const back = await h.authorize("x", { verifier: "v".repeat(43) });
    const err = await failure(x().exchangeCode({ code: back.searchParams.get("code")!, codeVerifier: "w".repeat(43) }));
    assert.equal((err as any).status, 400);
    assert.equal((err as any).body.error, "invalid_request");
  });
});
