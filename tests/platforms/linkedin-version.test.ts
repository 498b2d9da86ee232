// LinkedIn-Version against a sandbox that retires versions after a year (by
// its clock): the computed version keeps working as time passes, a pinned
// one that expired is an operator problem naming LINKEDIN_API_VERSION (not a
// permanent failure of the post), and validate() notices it too.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { linkedinVersion, monthVersion } from "../../server/platforms/linkedin-version.ts";
import { adaptersFor, failure, harness, type Harness } from "./helpers.ts";

describe("LinkedIn API version", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const DAY = 86_400_000;

  it("is the month before the current one unless pinned", () => {
    assert.equal(monthVersion(new Date("2026-01-15T00:00:00Z")), "202512");
    assert.equal(monthVersion(new Date("2026-12-01T00:00:00Z")), "202611");
    assert.equal(linkedinVersion(undefined, new Date("2026-03-31T23:59:00Z")), "202602");
    assert.equal(linkedinVersion("202409", new Date("2026-03-31T23:59:00Z")), "202409");
  });

  it("a computed version does not expire: publishing still works 14 months later", async () => {
    const conn = await h.connect("linkedin", "clock");
    await h.adapters.linkedin.publish(conn, { content: "Now" });
    h.clock.advance(14 * 30 * DAY);
    const fresh = await h.connect("linkedin", "clock2");
    await h.adapters.linkedin.validate(fresh);
    await h.adapters.linkedin.publish(fresh, { content: "Fourteen months on" });
    assert.equal((await h.control("/published?platform=linkedin")).posts.length, 2);
  });

  it("a pinned version that retired is an operator problem naming LINKEDIN_API_VERSION, seen by validate() too", async () => {
    const pinned = monthVersion(h.clock.now(), 13);
    const { adapters } = adaptersFor(h.sandbox.url, h.clock, 1500, { LINKEDIN_API_VERSION: pinned });
    const conn = await h.connect("linkedin", "pinned");
    const refused = adapters.linkedin.classifyError(await failure(adapters.linkedin.publish(conn, { content: "Old version" })));
    assert.equal(refused.kind, "transient", "not permanent: the post is not at fault");
    assert.equal(refused.operator, true);
    assert.equal(refused.code, "version_retired");
    assert.match(refused.message, new RegExp(`LINKEDIN_API_VERSION=${pinned}`));
    assert.equal((await h.control("/published?platform=linkedin")).posts.length, 0);
    // The unversioned userinfo alone would call this connection healthy.
    const check = adapters.linkedin.classifyError(await failure(adapters.linkedin.validate(conn)));
    assert.deepEqual([check.code, check.operator], ["version_retired", true]);
  });
});
