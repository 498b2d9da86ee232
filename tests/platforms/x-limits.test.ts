// X's pay-per-use and daily caps against the sandbox: 402 credits depleted
// is an operator problem (not the post's), a 429 waits for the 24-hour cap
// that is used up (not only the 15-minute window), and a token endpoint that
// refuses our app credentials is an operator problem, never a revoked grant.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { failure, harness, type Harness } from "./helpers.ts";

describe("X credits, daily caps and app credentials", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const x = () => h.adapters.x;

  it("402 credits depleted: an operator problem for every call, not a permanent failure", async () => {
    const conn = await h.connect("x", "payg");
    await h.control("/settings", { xCreditsDepleted: true }, "PUT");
    const c = x().classifyError(await failure(x().publish(conn, { content: "No credits" })));
    assert.deepEqual([c.kind, c.code, c.operator, c.status], ["transient", "credits_depleted", true, 402]);
    assert.equal(x().classifyError(await failure(x().validate(conn))).code, "credits_depleted");
    await h.control("/settings", { xCreditsDepleted: false }, "PUT");
    await x().publish(conn, { content: "Credits back" });
  });

  it("a 429 from the 24-hour user cap waits for that cap's reset, not the 15-minute window's", async () => {
    const conn = await h.connect("x", "daily");
    await h.control("/settings", { xUserPostsPer24Hours: 2 }, "PUT");
    const first = h.clock.now();
    await x().publish(conn, { content: "one" });
    h.clock.advance(60_000);
    await x().publish(conn, { content: "two" });
    const c = x().classifyError(await failure(x().publish(conn, { content: "three" })));
    assert.equal(c.kind, "rate_limited");
    assert.equal(c.retryAt!.getTime(), Math.ceil((first.getTime() + 86_400_000) / 1000) * 1000);
  });

  it("invalid_client at the token endpoint (a rotated app secret) is an operator problem, not a dead grant", async () => {
    const conn = await h.connect("youtube", "rotated");
    await h.control("/app-secret", { platform: "youtube", secret: "rotated-by-someone" });
    const c = h.adapters.youtube.classifyError(await failure(h.adapters.youtube.refresh(conn)));
    assert.deepEqual([c.kind, c.code, c.operator], ["transient", "invalid_client", true]);
    const xconn = await h.connect("x", "rotatedx");
    await h.control("/app-secret", { platform: "x", secret: "rotated-by-someone" });
    const cx = x().classifyError(await failure(x().refresh(xconn)));
    assert.deepEqual([cx.kind, cx.code, cx.operator], ["transient", "invalid_client", true]);
    // A grant that really is dead is still told apart.
    await h.control("/app-secret", { platform: "youtube", secret: "sandbox-google-secret" });
    await h.control("/revoke", { token: conn.refreshToken });
    assert.equal(h.adapters.youtube.classifyError(await failure(h.adapters.youtube.refresh(conn))).kind, "auth_revoked");
  });

  it("Meta: debug_token refusing our app secret is invalid_client for the operator, not a revoked user token", async () => {
    const page = await h.connect("facebook", "metasecret");
    await h.control("/app-secret", { platform: "facebook", secret: "rotated-by-someone" });
    const c = h.adapters.facebook.classifyError(await failure(h.adapters.facebook.validate(page)));
    assert.deepEqual([c.kind, c.code, c.operator], ["transient", "invalid_client", true]);
    await h.control("/app-secret", { platform: "facebook", secret: "sandbox-meta-secret" });
    await h.adapters.facebook.validate(page);
  });
});
