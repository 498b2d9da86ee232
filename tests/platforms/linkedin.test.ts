// LinkedIn against the sandbox: OpenID identity → person URN, escaped
// commentary, x-restli-id, fixed refresh-token expiry, 401/429.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { linkedinEscape } from "../../server/platforms/text.ts";
import { failure, harness, type Harness } from "./helpers.ts";

describe("LinkedIn adapter", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const li = () => h.adapters.linkedin;
  const DAY = 86_400_000;

  it("connects through userinfo: sub → urn:li:person:{sub}", async () => {
    const conn = await h.connect("linkedin", "pro");
    const ids = await h.control("/identities/pro");
    assert.equal(conn.platformUserId, ids.linkedinSub);
    assert.equal(conn.metadata.personUrn, `urn:li:person:${ids.linkedinSub}`);
    assert.equal(conn.platformUsername, "pro Sandbox");
    assert.equal(conn.expiresAt!.getTime(), h.clock.now().getTime() + 60 * DAY);
    assert.equal(conn.refreshTokenExpiresAt!.getTime(), h.clock.now().getTime() + 365 * DAY);
    await li().validate(conn);
  });

  it("escapes ( # @ and the other reserved characters so the text arrives whole", async () => {
    const conn = await h.connect("linkedin");
    const text = "Launch (today) #bakery @friends [50% off] *fresh* ~ <3 back\\slash {x|y} under_score";
    assert.equal(linkedinEscape("a(b#c@d"), "a\\(b\\#c\\@d");
    const since = h.clock.now();
    const { platformPostId } = await li().publish(conn, { content: text });
    assert.match(platformPostId, /^urn:li:share:\d+$/);
    const [sent] = (await h.control("/published?platform=linkedin")).posts;
    assert.equal(sent.rendered, text, "readers see the whole text");
    assert.equal(sent.text, linkedinEscape(text));
    // A partner app with r_member_social could list it back, unescaped.
    await h.control("/settings", { linkedinMemberFinder: true }, "PUT");
    const recent = await li().listRecentPosts(conn, since);
    assert.deepEqual(recent.map((p) => [p.id, p.text]), [[platformPostId, text]]);
    assert.deepEqual(li().checkContent({ content: "(".repeat(1501) }).map((p) => p.code), ["linkedin_too_long"]);
    assert.deepEqual(li().checkContent({ content: "a".repeat(3000) }), []);
  });

  it("cannot list a member's posts (a partner-only permission): not a revoked token, and a re-send's duplicate answer names the live post", async () => {
    const conn = await h.connect("linkedin", "member");
    assert.equal(li().canListPosts?.(conn), false, "reconciliation must not rely on listing members");
    const refused = li().classifyError(await failure(li().listRecentPosts(conn, h.clock.now())));
    assert.deepEqual(pick(refused), { kind: "permanent", code: "listing_not_permitted" }, "the finder's 403 is not auth_revoked: no reconnect loop");
    const { platformPostId } = await li().publish(conn, { content: "Fresh bread at 7 (today)" });
    const again = li().classifyError(await failure(li().publish(conn, { content: "Fresh bread at 7 (today)" })));
    assert.deepEqual([again.kind, again.code, again.duplicate, again.duplicateOf], ["permanent", "duplicate", true, platformPostId]);
    assert.equal((await h.control("/published?platform=linkedin")).posts.length, 1, "the duplicate was not published");
    // Another author may say the same thing.
    const other = await h.connect("linkedin", "neighbour");
    await li().publish(other, { content: "Fresh bread at 7 (today)" });
  });

  it("refreshes without extending the refresh token's fixed expiry, then refuses after it", async () => {
    const conn = await h.connect("linkedin");
    const fixed = conn.refreshTokenExpiresAt!.getTime();
    h.clock.advance(61 * DAY);
    assert.equal(li().classifyError(await failure(li().validate(conn))).code, "token_expired");
    const next = await li().refresh(conn);
    assert.equal(next.refreshTokenExpiresAt!.getTime(), fixed);
    assert.equal(next.expiresAt!.getTime(), h.clock.now().getTime() + 60 * DAY);
    await li().validate({ ...conn, ...next });
    h.clock.advance(305 * DAY);
    const dead = li().classifyError(await failure(li().refresh({ ...conn, ...next })));
    assert.deepEqual([dead.kind, dead.code], ["auth_revoked", "refresh_token_invalid"]);
  });

  it("without a partner refresh token, refresh says reconnect", async () => {
    await h.control("/settings", { linkedinRefreshTokens: false }, "PUT");
    const conn = await h.connect("linkedin");
    assert.equal(conn.refreshToken, null);
    const c = li().classifyError(await failure(li().refresh(conn)));
    assert.deepEqual([c.kind, c.code], ["auth_revoked", "reconnect_required"]);
  });

  it("classifies 401 (65600/65601) and 429", async () => {
    const conn = await h.connect("linkedin", "busy");
    await h.control("/rate-limit", { platform: "linkedin", user: "busy", seconds: 60 });
    const limited = li().classifyError(await failure(li().publish(conn, { content: "hi" })));
    assert.equal(limited.kind, "rate_limited");
    const now = h.clock.now();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    assert.equal(limited.retryAt!.getTime(), midnight, "daily limits reset at midnight UTC");
    await h.control("/faults", { endpoint: "linkedin.posts.create", status: 429, body: { message: "throttled", status: 429 }, headers: { "retry-after": "120" } });
    assert.equal(li().classifyError(await failure(li().publish(conn, { content: "hi" }))).retryAt!.getTime(), now.getTime() + 120_000);
    await h.control("/faults", { endpoint: "linkedin.posts.create", status: 401, body: { message: "Invalid access token", serviceErrorCode: 65600, status: 401 } });
    assert.deepEqual(Object.values(pick(li().classifyError(await failure(li().publish(conn, { content: "hi" }))))), ["auth_revoked", "token_invalid"]);
    await h.control("/rate-limit", { platform: "linkedin", user: "busy", seconds: 0 });
    await h.control("/revoke", { platform: "linkedin", user: "busy" });
    assert.deepEqual(Object.values(pick(li().classifyError(await failure(li().validate(conn))))), ["auth_revoked", "token_revoked"]);
    await h.control("/faults", { endpoint: "linkedin.userinfo", status: 500, body: { message: "boom", status: 500 } });
    const other = await failure(h.connect("linkedin", "other"));
    assert.equal(li().classifyError(other).kind, "transient");
  });
});

const pick = (c: { kind: string; code: string }) => ({ kind: c.kind, code: c.code });
