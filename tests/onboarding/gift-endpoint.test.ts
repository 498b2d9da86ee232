// POST /api/gift-certificates: the operator makes certificates while the server
// runs (Bearer OPS_TOKEN); the codes are answered once, stored as hashes, never
// logged, and redeem like the CLI's.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { giftCertificates } from "../../shared/schema.ts";
import { canonicalGiftCode, giftCodeHash } from "../../server/onboarding/gift-codes.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

const OPS_TOKEN = "ops-token-for-gift-tests-0123456789";
const operator = { authorization: `Bearer ${OPS_TOKEN}` };

describe("POST /api/gift-certificates", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { OPS_TOKEN } });
  });
  after(() => server.close());

  it("creates codes for the operator only, stores their hashes, never logs them, and they redeem", async () => {
    const anon = server.client();
    assert.equal((await anon.post("/api/gift-certificates", { plan: "growth", for: "Cafe" })).status, 401);
    assert.equal((await anon.post("/api/gift-certificates", { plan: "growth", for: "Cafe" }, { authorization: "Bearer wrong-token-wrong-token" })).status, 403);
    const bad = await anon.post("/api/gift-certificates", { plan: "platinum", for: "" }, operator);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.details.map((d: { path: string }) => d.path).sort(), ["for", "plan"]);

    const r = await anon.post("/api/gift-certificates", { plan: "growth", for: "Cafe on the corner", count: 2 }, operator);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("cache-control"), "no-store");
    assert.equal(r.body.codes.length, 2);
    for (const code of r.body.codes as string[]) {
      const [row] = await server.deps.db.select().from(giftCertificates).where(eq(giftCertificates.codeHash, giftCodeHash(canonicalGiftCode(code)!)));
      assert.equal(row?.plan, "growth");
      assert.equal(row?.createdFor, "Cafe on the corner");
      assert.ok(!server.rawLog().includes(code), "the code is not logged");
    }

    const { client } = await signedUpClient(server, "giftop");
    const redeemed = await client.post("/api/redeem-gift-certificate", { code: r.body.codes[0] });
    assert.equal(redeemed.status, 200, redeemed.text);
    assert.equal(redeemed.body.user.subscriptionPlan, "growth");
    assert.equal(redeemed.body.user.subscriptionActive, true);
  });

  it("does not exist when OPS_TOKEN is unset", async () => {
    const plain = await startTestServer();
    try {
      const r = await plain.client().post("/api/gift-certificates", { plan: "growth", for: "x" }, { authorization: "Bearer anything-at-all-0123" });
      assert.equal(r.status, 404);
    } finally {
      await plain.close();
    }
  });
});
