// The contract: /api/openapi.json covers every route actually mounted in the
// Express app (walked from the router stack; the sandbox at /sandbox is a fake
// platform and is left out on purpose), documents nothing that is not mounted,
// and the answers of the main flows validate against it (ajv, JSON Schema 2020-12,
// the dialect of OpenAPI 3.1). /api/docs renders it from node_modules.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { createApp } from "../../server/app.ts";
import type { Client, Reply } from "../support/client.ts";
import { connectPlatform } from "../support/connect.ts";
import { mountedRoutes } from "../support/routes.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { givePlan } from "../posts/helpers.ts";

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, any> }>>; components: any };

const templateOf = (expressPath: string) => expressPath.replace(/:(\w+)/g, "{$1}");

describe("OpenAPI contract", () => {
  let server: TestServer;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  let checked = 0;

  /** Asserts the reply is one the document declares for this operation, with a body matching its schema. */
  function conforms(method: string, path: string, reply: Reply): Reply {
    const op = doc.paths[templateOf(path)]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${path} is not in the document`);
    const declared = op.responses[String(reply.status)];
    assert.ok(declared, `${method} ${path} answered ${reply.status}, which the document does not declare: ${reply.text.slice(0, 200)}`);
    const schema = declared.content?.["application/json"]?.schema;
    if (schema) {
      const validate = ajv.compile({ ...schema, components: doc.components });
      assert.ok(validate(reply.body), `${method} ${path} ${reply.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${reply.text.slice(0, 400)}`);
    }
    checked += 1;
    return reply;
  }
  const call = async (client: Client, method: string, path: string, concrete = path, body?: unknown) =>
    conforms(method, path, await client.request(method, concrete, body));

  before(async () => {
    server = await startTestServer();
    const r = await server.client().get("/api/openapi.json");
    assert.equal(r.status, 200);
    doc = r.body;
  });
  after(() => server.close());

  it("is OpenAPI 3.1 and covers exactly the mounted routes (the sandbox excluded)", async () => {
    assert.equal(doc.openapi, "3.1.0");
    const { app, sessions } = createApp(server.deps);
    const { routes, prefixes } = mountedRoutes(app);
    sessions.close();
    assert.deepEqual(prefixes, ["/sandbox"], "only the sandbox is mounted under a prefix (it is not our API)");
    assert.ok(routes.length > 40, `walked ${routes.length} routes`);
    const missing = routes.filter((r) => !doc.paths[templateOf(r.path)]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    assert.deepEqual(missing, [], "every mounted route is documented");
    const mounted = new Set(routes.map((r) => `${r.method} ${templateOf(r.path)}`));
    const extra = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => !mounted.has(`${m} ${p}`)).map((m) => `${m} ${p}`));
    assert.deepEqual(extra, [], "nothing is documented that is not mounted");
    // Every documented write refuses bad input with the error envelope.
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) if ((op as any).requestBody) assert.ok(op.responses["400"], `${m} ${p} documents its 400`);
    }
  });

  it("the main flows answer what the document says", async () => {
    const anon = server.client();
    await call(anon, "GET", "/healthz");
    await call(anon, "GET", "/readyz");
    await call(anon, "GET", "/api/auth/session");
    await call(anon, "POST", "/api/auth/establish-session", undefined, {});
    await call(anon, "GET", "/api/user"); // 401 with the envelope
    const bad = await call(anon, "POST", "/api/auth/signup", undefined, { email: "nope" }); // 400 naming the fields
    assert.equal(bad.status, 400);
    assert.ok(bad.body.requestId && bad.headers.get("x-request-id") === bad.body.requestId, "the error names the request");
    await call(anon, "POST", "/api/send-code", undefined, { phone: "+61400000001" });
    await call(anon, "GET", "/api/queensland-events");

    const { client, user } = await signedUpClient(server, "contract");
    await call(client, "GET", "/api/auth/session");
    await call(client, "GET", "/api/user");
    await call(client, "GET", "/api/user-status");
    await call(client, "GET", "/api/subscription-usage");
    await call(client, "GET", "/api/brand-purpose"); // null before it is saved
    await givePlan(server.deps, user.id);
    await call(client, "GET", "/api/quota-status");
    await connectPlatform(client, "linkedin", "contract-user");
    await call(client, "GET", "/api/platform-connections");
    await call(client, "GET", "/api/oauth-status");
    await call(client, "GET", "/api/check-connection");
    await call(client, "POST", "/api/platform-connections/:platform/refresh", "/api/platform-connections/linkedin/refresh", {});
    await call(client, "GET", "/api/connections/:platform/pages", "/api/connections/facebook/pages");

    const created = await call(client, "POST", "/api/posts", undefined, { platform: "linkedin", content: "Contract draft" });
    assert.equal(created.status, 201);
    const id = created.body.id as number;
    await call(client, "GET", "/api/posts");
    await call(client, "PUT", "/api/posts/:id", `/api/posts/${id}`, { content: "Contract draft, edited" });
    await call(client, "PUT", "/api/posts/:id", "/api/posts/999999", { content: "nobody's" }); // 404
    await call(client, "POST", "/api/approve-post", undefined, { postId: id });
    const now = await call(client, "POST", "/api/post", undefined, { postId: id });
    // 202 when the platform call's answer was lost on a loaded machine: also a documented answer.
    assert.ok([200, 202].includes(now.status), now.text);
    if (now.status === 200) {
      assert.equal(now.body.post.status, "published");
      await call(client, "POST", "/api/post", undefined, { postId: id }); // 409 already published
    }
    await call(client, "POST", "/api/auto-post", undefined, {});
    await call(client, "POST", "/api/direct-publish", undefined, { action: "publish_all" });
    await call(client, "GET", "/api/platform-health");
    await call(client, "GET", "/api/analytics");
    const draft = await call(client, "POST", "/api/posts", undefined, { platform: "x", content: "to delete" });
    await call(client, "DELETE", "/api/posts/:id", `/api/posts/${draft.body.id}`);
    await call(client, "POST", "/api/disconnect-platform", undefined, { platform: "linkedin" });
    await call(client, "DELETE", "/api/platform-connections/:platform", "/api/platform-connections/linkedin"); // 404 not connected
    await call(client, "POST", "/api/cancel-subscription", undefined, {});
    await call(client, "POST", "/api/auth/logout", undefined, {});
    assert.ok(checked >= 29, `checked ${checked} answers`);
  });

  it("serves a reference page whose scripts and styles come from this server", async () => {
    const anon = server.client();
    const page = await anon.get("/api/docs");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length >= 3);
    for (const a of assets) {
      assert.ok(a.startsWith("/api/docs/"), `${a} is served by us (no CDN)`);
      const r = await anon.get(a);
      assert.equal(r.status, 200, a);
    }
    // The default CSP allows exactly that: scripts and styles from 'self', no inline script needed.
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(page.text, /<script>[^<]/, "no inline script");
  });
});
