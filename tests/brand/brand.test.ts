// Brand purpose over HTTP as the client uses it (CLIENT.md §3): the round trip
// with its exact body, null before the first save (never {}), validation by the
// client's limits, the multipart logo upload (bytes checked, 5 MB, served by
// us, the literal Authorization header ignored), escaped and cached guidance
// with a per-user limit, and the Queensland events list.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { clientBrandPurpose, jpegImage, pngImage, uploadLogo, webpImage } from "./helpers.ts";

describe("brand purpose", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("is null before the first save, then round-trips the client's exact body with updatedAt", async () => {
    const { client, user } = await signedUpClient(server, "brand");
    const none = await client.get("/api/brand-purpose");
    assert.equal(none.status, 200);
    assert.equal(none.text, "null");

    const body = clientBrandPurpose();
    const saved = await client.post("/api/brand-purpose", body);
    assert.equal(saved.status, 200, saved.text);
    const got = await client.get("/api/brand-purpose");
    assert.equal(got.status, 200);
    const { logoUrl, updatedAt, ...fields } = got.body;
    const { logoUrl: _sent, ...sent } = body;
    assert.deepEqual(fields, sent);
    assert.equal(logoUrl, null);
    assert.ok(!Number.isNaN(Date.parse(updatedAt)));
    const row = (await server.deps.database.pool.query("select has_brand_setup from users where id = $1", [user.id])).rows[0];
    assert.equal(row.has_brand_setup, true);

    // An update replaces the whole form (upsert), and the answer moves updatedAt.
    server.clock.advance(60_000);
    const again = await client.post("/api/brand-purpose", clientBrandPurpose({ brandName: "Bayside Bakery & Co" }));
    assert.equal(again.status, 200);
    const after2 = await client.get("/api/brand-purpose");
    assert.equal(after2.body.brandName, "Bayside Bakery & Co");
    assert.ok(Date.parse(after2.body.updatedAt) > Date.parse(updatedAt));
    const count = (await server.deps.database.pool.query("select count(*)::int as n from brand_purposes where user_id = $1", [user.id])).rows[0].n;
    assert.equal(count, 1);
  });

  it("refuses what the client's form refuses, naming each field; needs a login", async () => {
    const { client } = await signedUpClient(server, "brandbad");
    const bad = await client.post("/api/brand-purpose", clientBrandPurpose({ brandName: "B", corePurpose: "short", audience: "x".repeat(601), contactDetails: { email: "nope", phone: "" } }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "invalid_request");
    assert.equal(bad.body.error, bad.body.message);
    const paths = bad.body.details.map((d: { path: string }) => d.path).sort();
    assert.deepEqual(paths, ["audience", "brandName", "contactDetails.email", "corePurpose"]);
    assert.equal((await client.get("/api/brand-purpose")).text, "null", "nothing was stored");
    const anon = await server.client().get("/api/brand-purpose");
    assert.equal(anon.status, 401);
  });
});

describe("logo upload", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("stores a real PNG under DATA_DIR per user, serves it at logoUrl, and GET brand-purpose shows it", async () => {
    const { client, user } = await signedUpClient(server, "logo");
    const png = pngImage(40, 20);
    const up = await uploadLogo(client, png);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.mimeType, "image/png");
    assert.equal(up.body.width, 40);
    assert.equal(up.body.height, 20);
    assert.match(up.body.logoUrl, new RegExp(`^${server.url}/uploads/logos/${user.id}/logo-[0-9a-f]{16}\\.png$`));
    const served = await fetch(up.body.logoUrl);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), png);
    assert.deepEqual(readdirSync(join(server.dataDir, "uploads", "logos", String(user.id))), [up.body.logoUrl.split("/").pop()]);

    // Uploaded before the first save, kept through it (the save's logoUrl is not trusted).
    await client.post("/api/brand-purpose", clientBrandPurpose({ logoUrl: "" }));
    assert.equal((await client.get("/api/brand-purpose")).body.logoUrl, up.body.logoUrl);
    // The client's save-time call: JSON {} answers the stored logo.
    const json = await client.post("/api/upload-logo", {});
    assert.equal(json.status, 200);
    assert.equal(json.body.logoUrl, up.body.logoUrl);

    // A WebP replaces it; the old file is gone and its URL answers 404.
    const up2 = await uploadLogo(client, webpImage(), "logo.webp", "image/webp");
    assert.equal(up2.status, 200, JSON.stringify(up2.body));
    assert.equal(up2.body.mimeType, "image/webp");
    assert.equal((await fetch(up.body.logoUrl)).status, 404);
    assert.deepEqual(readdirSync(join(server.dataDir, "uploads", "logos", String(user.id))), [up2.body.logoUrl.split("/").pop()]);

    // A JPEG, whatever name and type the browser gave it: the bytes decide.
    const up3 = await uploadLogo(client, jpegImage(16, 9), "photo.png", "image/png");
    assert.equal(up3.status, 200, JSON.stringify(up3.body));
    assert.equal(up3.body.mimeType, "image/jpeg");
    assert.deepEqual([up3.body.width, up3.body.height], [16, 9]);
    assert.match(up3.body.logoUrl, /\.jpg$/);
    assert.equal((await fetch(up3.body.logoUrl)).headers.get("content-type"), "image/jpeg");
  });

  it("refuses a non-image renamed .png, a broken PNG, a 6 MB file, a wrong field; the Authorization header is not a login", async () => {
    const { client, user } = await signedUpClient(server, "logobad");
    const text = await uploadLogo(client, Buffer.from("<?php echo 'not an image'; ?>".repeat(10)), "logo.png", "image/png");
    assert.equal(text.status, 415);
    assert.equal(text.body.code, "unsupported_image");
    // JPEG magic bytes without a frame header (the sandbox's placeholder "sample.jpg") is not an image.
    const fakeJpeg = Buffer.from(await (await fetch(`${server.url}/sandbox/_media/sample.jpg`)).arrayBuffer());
    assert.deepEqual([...fakeJpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.equal((await uploadLogo(client, fakeJpeg, "sample.jpg", "image/jpeg")).status, 415);
    const truncated = pngImage();
    const broken = await uploadLogo(client, truncated.subarray(0, truncated.length - 12));
    assert.equal(broken.status, 415, "a PNG without IEND is not accepted");
    const big = Buffer.concat([pngImage(), Buffer.alloc(6 * 1024 * 1024)]);
    const tooBig = await uploadLogo(client, big);
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.code, "logo_too_large");
    const field = await uploadLogo(client, pngImage(), "logo.png", "image/png", "file");
    assert.equal(field.status, 400);
    const stored = (await server.deps.database.pool.query("select count(*)::int as n from brand_logos where user_id = $1", [user.id])).rows[0].n;
    assert.equal(stored, 0);

    const anon = await uploadLogo(server.client(), pngImage());
    assert.equal(anon.status, 401, "Authorization: valid-token is ignored");
    // Multipart anywhere else is still refused by the JSON-only guard.
    const form = new FormData();
    form.append("brandName", "x");
    const elsewhere = await fetch(`${server.url}/api/brand-purpose`, { method: "POST", body: form, headers: { cookie: client.cookieHeader } });
    assert.equal(elsewhere.status, 415);
  });
});

describe("guidance and Queensland events", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("answers escaped guidance built from the form: <script> comes back inert", async () => {
    const { client } = await signedUpClient(server, "guide");
    const form = { brandName: `<script>alert("x")</script> Bakery`, productsServices: "Bread & <b>cakes</b> for everyone", corePurpose: "We bake real bread for real people.", audience: "", jobToBeDone: "", motivations: "", painPoints: "" };
    const r = await client.post("/api/generate-guidance", form);
    assert.equal(r.status, 200);
    assert.ok(r.body.guidance.length > 50);
    assert.ok(!/<|>/.test(r.body.guidance), "no markup survives");
    assert.match(r.body.guidance, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; Bakery/);
    assert.match(r.body.guidance, /Bread &amp; &lt;b&gt;cakes&lt;\/b&gt;/);
    assert.match(r.body.guidance, /^## /);
    assert.equal(r.body.cached, false);
    const again = await client.post("/api/generate-guidance", { ...form, brandName: `  ${form.brandName} ` });
    assert.equal(again.body.cached, true, "the same input (whitespace aside) comes from the cache");
    assert.equal(again.body.guidance, r.body.guidance);
    // Empty fields (the form being filled in) are fine, never a 404 or an empty answer.
    const empty = await client.post("/api/generate-guidance", { brandName: "", productsServices: "", corePurpose: "", audience: "", jobToBeDone: "", motivations: "", painPoints: "" });
    assert.equal(empty.status, 200);
    assert.ok(empty.body.guidance.length > 0);
  });

  it("limits guidance per user (60 a minute) in PostgreSQL", async () => {
    const { client } = await signedUpClient(server, "guidelimit");
    const other = await signedUpClient(server, "guideother");
    for (let i = 0; i < 60; i++) {
      const r = await client.post("/api/generate-guidance", { brandName: `Shop ${i}` });
      assert.equal(r.status, 200);
    }
    const limited = await client.post("/api/generate-guidance", { brandName: "Shop" });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, "rate_limited");
    assert.equal((await other.client.post("/api/generate-guidance", { brandName: "Other" })).status, 200, "per user");
    server.clock.advance(61_000);
    assert.equal((await client.post("/api/generate-guidance", { brandName: "Shop" })).status, 200);
  });

  it("lists the next 30 days' Queensland events as a bare array, from the holiday data", async () => {
    // 2026-12-02 in Brisbane: Christmas Eve (QLD part-day), Christmas, Boxing Day and its substitute day.
    server.clock.set(new Date("2026-12-01T20:00:00Z"));
    const r = await server.client().get("/api/queensland-events");
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
    assert.deepEqual(
      r.body.map((e: { date: string; name: string }) => `${e.date} ${e.name}`),
      ["2026-12-24 Christmas Eve", "2026-12-25 Christmas Day", "2026-12-26 Boxing Day", "2026-12-28 Boxing Day (substitute day)"],
    );
    for (const e of r.body) {
      assert.deepEqual(Object.keys(e).sort(), ["date", "impact", "name", "type"]);
      assert.equal(e.impact, "high");
    }
    server.clock.set(new Date("2027-06-10T00:00:00Z"));
    const june = await server.client().get("/api/queensland-events");
    assert.deepEqual(june.body, [{ date: "2027-06-30", name: "End of financial year", type: "business", impact: "medium" }]);
  });
});
