// LinkedIn Pages: with LINKEDIN_PAGES on, the organization scopes are asked
// for; a member who administers Pages chooses the personal profile or a Page
// after consent (like Facebook Pages); a Page's posts (with media too) go
// out as the organization, and can be listed — so reconciliation lists.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { PlatformAdapters } from "../../server/platforms/registry.ts";
import type { NewConnection } from "../../server/platforms/types.ts";
import { adaptersFor, harness, type Harness } from "./helpers.ts";

describe("LinkedIn Pages", () => {
  let h: Harness;
  let adapters: PlatformAdapters;
  before(async () => {
    h = await harness();
    adapters = adaptersFor(h.sandbox.url, h.clock, 1500, { LINKEDIN_PAGES: "true" }).adapters;
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const li = () => adapters.linkedin;

  async function consent(user: string) {
    const oauth = li().oauth();
    const q = new URLSearchParams({ client_id: oauth.clientID, redirect_uri: oauth.callbackURL, response_type: "code", scope: oauth.scope.join(" "), state: "s".repeat(24) });
    const form = new URLSearchParams(q);
    form.set("user", user);
    form.set("decision", "allow");
    const res = await fetch(`${oauth.authorizationURL}?${q}`, { method: "POST", body: form, redirect: "manual" });
    const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
    return li().exchangeCode({ code });
  }

  it("asks for the organization scopes only when switched on", () => {
    assert.ok(li().oauth().scope.includes("w_organization_social"));
    assert.ok(li().oauth().scope.includes("r_organization_social"));
    assert.ok(!h.adapters.linkedin.oauth().scope.includes("w_organization_social"), "off by default: the app needs LinkedIn's Community Management API product");
  });

  it("a member with Pages chooses the profile or a Page; the Page posts as the organization, with media, and can be listed", async () => {
    const { pages } = await h.control("/linkedin-pages", { user: "owner", pages: [{ name: "Corner Bakery" }, { name: "Second Shop" }] });
    const tokens = await consent("owner");
    const shaped = await li().shapeConnection(tokens);
    assert.equal(shaped.kind, "choose");
    const choices = shaped.kind === "choose" ? shaped.choices : [];
    assert.deepEqual(choices.map((c) => c.name), ["owner Sandbox (personal profile)", "Corner Bakery", "Second Shop"]);
    const chosen = await li().shapeConnection(tokens, { pageId: pages[0].id });
    assert.equal(chosen.kind, "connection");
    const page = (chosen as { connection: NewConnection }).connection;
    assert.equal(page.metadata.authorUrn, `urn:li:organization:${pages[0].id}`);
    assert.equal(page.platformUsername, "Corner Bakery");

    await li().validate(page);
    const since = h.clock.now();
    const { platformPostId } = await li().publish(page, { content: "Fresh from the Page", mediaUrl: `${h.sandbox.url}/_media/sample.jpg`, mediaType: "image/jpeg" });
    const [sent] = (await h.control("/published?platform=linkedin")).posts;
    assert.equal(sent.account, `urn:li:organization:${pages[0].id}`);
    assert.equal(sent.mediaIds.length, 1);
    // Organization posts can be listed: a lost answer is settled by listing.
    const recent = await li().listRecentPosts(page, since);
    assert.deepEqual(recent.map((p) => [p.id, p.text]), [[platformPostId, "Fresh from the Page"]]);
  });

  it("a member without Pages connects the personal profile directly", async () => {
    const shaped = await li().shapeConnection(await consent("solo"));
    assert.equal(shaped.kind, "connection");
    assert.equal((shaped as { connection: NewConnection }).connection.metadata.authorUrn, undefined);
  });
});
