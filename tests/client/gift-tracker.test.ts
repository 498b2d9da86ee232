// The gift certificate tracker (CLIENT.md §8): all four keys, the user's own
// certificates and attempts only, codes masked, no IP or user agent.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createCertificates } from "../../server/onboarding/gift-service.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

describe("my gift certificate actions", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("shows the user's own redemptions and attempts, nobody else's", async () => {
    const [code, other] = await createCertificates(server.deps.db, { plan: "professional", createdFor: "Tracker test", count: 2, now: server.clock.now() });
    const a = await signedUpClient(server, "trackA");
    const b = await signedUpClient(server, "trackB");
    assert.equal((await a.client.post("/api/redeem-gift-certificate", { code: code!, email: "", password: "", phone: "" })).status, 200);
    assert.equal((await a.client.post("/api/redeem-gift-certificate", { code: code! })).status, 400);
    assert.equal((await a.client.post("/api/redeem-gift-certificate", { code: "NOT-A-CODE" })).status, 400);
    assert.equal((await b.client.post("/api/redeem-gift-certificate", { code: code! })).status, 400);
    // An anonymous attempt belongs to nobody's tracker.
    assert.equal((await server.client().post("/api/redeem-gift-certificate", { code: other! })).status, 400);

    const r = await a.client.get("/api/my-gift-certificate-actions");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ["actionLogs", "createdCertificates", "redeemedCertificates", "summary"]);
    assert.deepEqual(r.body.createdCertificates, []);
    assert.equal(r.body.redeemedCertificates.length, 1);
    const cert = r.body.redeemedCertificates[0];
    assert.equal(cert.plan, "professional");
    assert.equal(cert.isUsed, true);
    assert.equal(cert.createdFor, "Tracker test");
    assert.equal(cert.code, `****-****-****-****-****-****-${code!.slice(-4)}`);
    assert.ok(!r.text.includes(code!), "the code itself is never sent back");
    assert.deepEqual(r.body.actionLogs.map((l: { actionType: string; success: boolean }) => [l.actionType, l.success]), [
      ["attempted_redeem", false],
      ["attempted_redeem", false],
      ["redeemed", true],
    ]);
    assert.equal(r.body.actionLogs[1].errorMessage, "This gift certificate had already been used");
    for (const l of r.body.actionLogs) {
      assert.equal(l.actionByEmail, a.identity.email.toLowerCase());
      for (const k of ["ipAddress", "sessionId", "ip", "userAgent"]) assert.ok(!(k in l), k);
    }
    assert.deepEqual(r.body.summary, { totalCreated: 0, totalRedeemed: 1, totalActions: 3 });

    const theirs = (await b.client.get("/api/my-gift-certificate-actions")).body;
    assert.deepEqual(theirs.redeemedCertificates, []);
    assert.equal(theirs.actionLogs.length, 1);
    assert.equal(theirs.actionLogs[0].success, false);
    assert.equal((await server.client().get("/api/my-gift-certificate-actions")).status, 401);
  });
});
