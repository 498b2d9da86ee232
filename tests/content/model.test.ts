// Strategic content written by a model: the sandbox's OpenAI-compatible
// endpoint, reached over HTTP by the official client. The whole journey with
// the model; what the prompt holds (this user's brand, no contact details,
// nothing of another user, no key); each fault on demand (invalid JSON, an
// answer cut off at the token limit, posts too long for their platform, no
// answer, an HTTP error) retried once and then replaced by the built-in
// writer, which the answer reports.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { FAST_PUBLISHING } from "../posts/helpers.ts";
import { approveAndPublish, brandOwner, generate, postsOf } from "./helpers.ts";

const KEY = "sandbox-llm-key-0123456789";

async function llmControl(server: TestServer, path: string, body: unknown, method = "POST") {
  const r = await fetch(`${server.url}/sandbox${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.ok(r.status < 300, `${path}: ${r.status}`);
  return r.json();
}

describe("strategic content, model writer (sandbox model)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      env: { ...FAST_PUBLISHING, PLAN_PROFESSIONAL_POSTS: "52", LLM_API_KEY: KEY, LLM_MODEL: "sandbox-writer", LLM_TIMEOUT_MS: "5000", LLM_MAX_ATTEMPTS: "2" },
    });
  });
  after(() => server.close());

  it("done when, with a model: generate → model-written drafts → approve some → they publish; the prompt holds only this brand", async () => {
    const other = await brandOwner(server, ["facebook"], "otherbrand", "starter", { brandName: "Secret Competitor Pty" });
    assert.equal((await generate(other.client)).body.generator, "model");
    const { client } = await brandOwner(server, ["facebook", "x"], "modeljourney");
    const r = await generate(client);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.generator, "model");
    assert.equal(r.body.fallback, undefined);
    assert.equal(r.body.savedCount, 52);
    const drafts = await postsOf(client);
    assert.equal(drafts.length, 52);
    for (const p of drafts) {
      assert.equal(p.generatedBy, "model");
      assert.ok(p.content.startsWith("Bayside Bakery · "), p.content);
      assert.deepEqual(server.deps.platforms[p.platform].checkContent({ content: p.content }), []);
    }
    await approveAndPublish(server, client, drafts);

    const { requests } = await (await fetch(`${server.url}/sandbox/llm/_control/requests`)).json();
    const last = requests.at(-1);
    assert.equal(last.model, "sandbox-writer");
    const text = JSON.stringify(last.messages);
    assert.match(text, /Bayside Bakery/);
    for (const absent of ["hello@baysidebakery.com.au", "07 3000 0000", "Secret Competitor", KEY]) assert.ok(!text.includes(absent), `prompt leaks ${absent}`);
    assert.ok(!server.rawLog().includes(KEY), "the key is never logged");
  });

  const FAULTS: Array<[kind: string, reason: RegExp]> = [
    ["invalid_json", /invalid JSON/],
    ["too_long", /too long/],
    ["overlong_post", /invalid answer: slot \d+/],
    ["timeout", /timed out/],
  ];
  for (const [kind, reason] of FAULTS) {
    it(`${kind}: retried once, then the built-in writer, reported in the answer`, async () => {
      const { client } = await brandOwner(server, ["facebook", "x"], `fault${kind.replace(/_/g, "")}`, "starter");
      await llmControl(server, "/llm/_control/faults", { kind, times: 2 });
      const failed = await generate(client);
      assert.equal(failed.status, 200, failed.text);
      assert.equal(failed.body.generator, "builtin");
      assert.equal(failed.body.fallback.attempts, 2);
      assert.match(failed.body.fallback.reason, reason);
      assert.match(failed.body.message, /built-in writer/);
      assert.equal(failed.body.savedCount, 12);
      const drafts = await postsOf(client);
      assert.equal(drafts.length, 12);
      assert.ok(drafts.every((p) => p.generatedBy === "builtin"));
      for (const p of drafts) assert.deepEqual(server.deps.platforms[p.platform].checkContent({ content: p.content }), [], "nothing invalid was stored");

      // One bad answer only: the second call succeeds and replaces the built-in drafts.
      await llmControl(server, "/llm/_control/faults", { kind, times: 1 });
      const retried = await generate(client);
      assert.equal(retried.body.generator, "model");
      assert.equal(retried.body.replacedCount, 12);
      assert.ok((await postsOf(client)).every((p) => p.generatedBy === "model"));
    });
  }

  it("an HTTP error from the model service falls back too; the sandbox refuses a call without a key", async () => {
    const { client } = await brandOwner(server, ["linkedin"], "faulthttp", "starter");
    await llmControl(server, "/_control/faults", { endpoint: "llm.chat.completions", times: 2, status: 503, body: { error: { message: "overloaded", type: "server_error" } } });
    const r = await generate(client);
    assert.equal(r.body.generator, "builtin");
    assert.match(r.body.fallback.reason, /answered 503/);
    const noKey = await fetch(`${server.url}/sandbox/llm/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "{}" }] }) });
    assert.equal(noKey.status, 401);
    assert.equal((await noKey.json()).error.code, "invalid_api_key");
  });
});
