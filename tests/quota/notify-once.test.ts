// The once-only e-mail helper shared by the cycle notice and the connection
// notices: parallel senders of one key send one e-mail; a send that fails
// frees the slot (a later run sends it) and logs no secret.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../server/config.ts";
import { createMailer } from "../../server/notify/email.ts";
import { sendEmailOnce } from "../../server/notify/once.ts";
import { freePort, signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { all } from "./helpers.ts";

describe("sendEmailOnce", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const mail = (userId: number, to: string, dedupeKey: string) => ({
    userId,
    kind: "test_notice",
    dedupeKey,
    at: server.clock.now(),
    message: { to, subject: "Once", text: "Only once" },
    failureNote: "Test notice failed; a later run retries",
  });

  it("parallel senders of one key: one e-mail, the others see it already sent; another key is another e-mail", async () => {
    const { user, identity } = await signedUpClient(server, "once");
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => sendEmailOnce(server.deps, mail(user.id, identity.email, "k1"))));
    assert.deepEqual(outcomes.filter((o) => o === "sent").length, 1);
    assert.deepEqual(outcomes.filter((o) => o === "already_sent").length, 7);
    assert.equal(await sendEmailOnce(server.deps, mail(user.id, identity.email, "k2")), "sent");
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 2);
    const rows = await all(server, "select dedupe_key from email_notifications where user_id = $1 and kind = 'test_notice' order by dedupe_key", [user.id]);
    assert.deepEqual(rows.map((r) => r.dedupe_key), ["k1", "k2"]);
  });

  it("a failed send frees the slot and logs the caller's note; the next run sends", async () => {
    const { user, identity } = await signedUpClient(server, "oncefail");
    // A real SMTP transport pointed at a port nobody listens on, with a password in its URL.
    const config = loadConfig({ ...process.env, DATA_DIR: server.dataDir, SMTP_URL: `smtp://mailer:s3cret-pw@127.0.0.1:${await freePort()}` });
    const broken = { ...server.deps, mailer: createMailer(config, server.deps.log) };
    assert.equal(await sendEmailOnce(broken, mail(user.id, identity.email, "k")), "failed");
    assert.equal((await all(server, "select id from email_notifications where user_id = $1", [user.id])).length, 0);
    const line = server.logs.find((l) => l.msg === "Test notice failed; a later run retries" && l.userId === user.id);
    assert.ok(line, "the caller's note is logged");
    assert.ok(!server.rawLog().includes("s3cret-pw"));
    assert.equal(await sendEmailOnce(server.deps, mail(user.id, identity.email, "k")), "sent");
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 1);
  });
});
