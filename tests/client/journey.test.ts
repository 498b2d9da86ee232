// The contract with the React client, replayed over HTTP in the order a new
// customer's visit makes the calls (CLIENT.md): landing → deep link → signup →
// redeem → connect → approve → publish → analytics → reset password →
// logout/login. Each answer is checked for every field the client reads; a
// field it dereferences that is missing (or of the wrong kind) fails the test.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createCertificates } from "../../server/onboarding/gift-service.ts";
import type { Reply } from "../support/client.ts";
import { connectPlatform } from "../support/connect.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { until } from "./helpers.ts";

type Kind = "string" | "number" | "boolean" | "array" | "object" | "string|null" | "number|null" | "iso|null";
type Spec = { [field: string]: Kind | Spec };

/** Fails naming the path of every field the client reads that is missing or of the wrong kind. */
function reads(value: unknown, spec: Spec, where = "body"): void {
  assert.ok(value !== null && typeof value === "object", `${where} must be an object`);
  for (const [field, kind] of Object.entries(spec)) {
    const v: unknown = (value as Record<string, unknown>)[field];
    const path = `${where}.${field}`;
    if (typeof kind === "object") reads(v, kind, path);
    else if (kind === "array") assert.ok(Array.isArray(v), `${path} must be an array`);
    else if (kind === "object") assert.ok(v !== null && typeof v === "object", `${path} must be an object`);
    else if (kind === "iso|null") assert.ok(v === null || (typeof v === "string" && !Number.isNaN(Date.parse(v))), `${path} must be an ISO date or null`);
    else if (kind.endsWith("|null")) assert.ok(v === null || typeof v === kind.split("|")[0], `${path} must be ${kind}`);
    else assert.equal(typeof v, kind, `${path} must be a ${kind}`);
  }
}

const ok = (r: Reply, status = 200) => {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get("content-type") ?? "", /application\/json/);
  return r.body;
};
const HTML = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
const USER: Spec = { id: "number", email: "string", phone: "string|null", subscriptionPlan: "string|null", subscriptionActive: "boolean", remainingPosts: "number", totalPosts: "number" };

describe("a new customer's journey through the client's calls", () => {
  let server: TestServer;
  let staticDir: string;
  const customer = { email: `journey${process.pid}+shop@example.com`, password: "first password!", phone: `+6142${String(process.pid).padStart(7, "0").slice(-7)}` };
  let code: string | undefined;

  before(async () => {
    staticDir = mkdtempSync(join(tmpdir(), "aiq-journey-"));
    writeFileSync(join(staticDir, "index.html"), '<!doctype html><div id="root"></div>');
    server = await startTestServer({ env: { STATIC_DIR: staticDir, REQUIRE_PHONE_VERIFICATION: undefined } });
    [code] = await createCertificates(server.deps.db, { plan: "growth", createdFor: "Journey", count: 1, now: server.clock.now() });
    c = browser();
  });
  after(async () => {
    await server.close();
    rmSync(staticDir, { recursive: true, force: true });
  });

  const browser = () => server.client();
  // The customer's browser (its cookie jar), created once the server runs.
  let c: ReturnType<typeof browser>;

  it("landing: / is the app, /api/user says nobody, /api/login sends to /login", async () => {
    const page = await c.get("/", HTML);
    assert.equal(page.status, 200);
    assert.match(page.text, /id="root"/);
    const user = await c.get("/api/user");
    assert.equal(user.status, 401);
    assert.equal(user.body.requiresLogin, true);
    reads(ok(await c.get("/api/auth/session")), { authenticated: "boolean", user: "object|null" as Kind } as Spec);
    const login = await c.get("/api/login", HTML);
    assert.deepEqual([login.status, login.headers.get("location")], [302, "/login"]);
  });

  it("deep links load the app", async () => {
    for (const path of ["/subscription", "/redeem-certificate", "/login"]) assert.match((await c.get(path, HTML)).text, /id="root"/, path);
  });

  it("signup: the form alone, then establish-session, /api/user and /api/user-status", async () => {
    const r = ok(await c.post("/api/auth/signup", customer), 201);
    reads(r, { user: USER });
    reads(ok(await c.post("/api/establish-session", {})), { authenticated: "boolean", sessionId: "string|null", userId: "number", userEmail: "string", user: { ...USER, hasCompletedSetup: "boolean" } });
    reads(ok(await c.get("/api/user")), USER);
    reads(ok(await c.get("/api/user-status")), { hasActiveSubscription: "boolean", userType: "string", hasBrandSetup: "boolean", hasConnections: "boolean" });
  });

  it("redeem: the form's four fields with an empty phone; then /schedule's preconditions and the tracker", async () => {
    const r = ok(await c.post("/api/redeem-gift-certificate", { code: code!.toUpperCase(), email: customer.email, password: "typed", phone: "" }));
    reads(r, { plan: "string", certificateCode: "string", user: { remainingPosts: "number" } });
    const user = ok(await c.get("/api/user"));
    assert.ok(!["", "none", null].includes(user.subscriptionPlan));
    const usage = ok(await c.get("/api/subscription-usage"));
    reads(usage, { subscriptionPlan: "string", totalAllocation: "number", remainingPosts: "number", usedPosts: "number", planLimits: { posts: "number", reach: "number", engagement: "number" } });
    assert.ok(usage.totalAllocation > 0);
    reads(ok(await c.get("/api/quota-status")), { withinLimits: "boolean", remainingPosts: "number" });
    const tracker = ok(await c.get("/api/my-gift-certificate-actions"));
    reads(tracker, { createdCertificates: "array", redeemedCertificates: "array", actionLogs: "array", summary: { totalCreated: "number", totalRedeemed: "number", totalActions: "number" } });
    for (const cert of tracker.redeemedCertificates) reads(cert, { plan: "string" });
    for (const log of tracker.actionLogs) reads(log, { actionType: "string" });
  });

  it("connect: platforms through the popup flow, then the connection pages' calls", async () => {
    reads({ list: ok(await c.get("/api/platform-connections")) }, { list: "array" });
    for (const p of ["facebook", "linkedin"] as const) await connectPlatform(c, p, "journey-shop");
    const list = ok(await c.get("/api/platform-connections"));
    assert.equal(list.length, 2);
    for (const row of list) reads(row, { id: "number", platform: "string", isActive: "boolean", oauthStatus: { platform: "string", isValid: "boolean", needsRefresh: "boolean" } });
    const tokens = ok(await c.get("/api/validate-tokens"));
    reads(tokens, { success: "boolean", validationResults: { facebook: { valid: "boolean", needsReconnection: "boolean" } }, summary: "object" });
    ok(await c.post("/api/test-connection", { platform: "linkedin" }));
    const test = await c.post("/api/direct-publish", { action: "test_publish_all", content: "OAuth Token Test - Platform Connection Verification", platforms: ["facebook", "instagram", "linkedin", "twitter", "youtube"] });
    reads(test.body, { summary: { successCount: "number", failureCount: "number" } });
    assert.deepEqual(test.body.summary, { successCount: 2, failureCount: 3 });
    reads(ok(await c.get("/api/reconnect/facebook")), { success: "boolean", authUrl: "string" });
  });

  let postIds: number[] = [];
  it("approve: posts listed as the schedule page reads them, approved by string id", async () => {
    for (const platform of ["facebook", "linkedin"]) ok(await c.post("/api/posts", { platform, content: `Spring offer on ${platform}: 20% off this week` }), 201);
    const list = ok(await c.get("/api/posts"));
    for (const p of list) reads(p, { id: "number", platform: "string", content: "string", status: "string", scheduledFor: "iso|null", analytics: { reach: "number", engagement: "number", impressions: "number" } });
    postIds = list.map((p: { id: number }) => p.id);
    for (const id of postIds) reads(ok(await c.post("/api/approve-post", { postId: String(id) })), { queued: "boolean" });
  });

  it("publish: direct-publish and the enforcer's arrays", async () => {
    const r = ok(await c.post("/api/direct-publish", { action: "publish_all" }));
    reads(r, { successCount: "number", totalPosts: "number", message: "string" });
    assert.equal(r.successCount, 2);
    const enforce = ok(await c.post("/api/enforce-auto-posting", {}));
    reads(enforce, { success: "boolean", postsProcessed: "number", postsPublished: "number", postsFailed: "number", connectionRepairs: "array", errors: "array", message: "string" });
    const posts = ok(await c.get("/api/posts"));
    assert.deepEqual(posts.map((p: { status: string }) => p.status), ["published", "published"]);
  });

  it("analytics: every number the pages dereference, targets > 0", async () => {
    const a = ok(await c.get("/api/analytics"));
    const numbers = ["totalPosts", "targetPosts", "reach", "targetReach", "engagement", "targetEngagement", "conversions", "targetConversions"];
    reads(a, Object.fromEntries(numbers.map((k) => [k, "number"])) as Spec);
    for (const k of numbers.filter((n) => n.startsWith("target"))) assert.ok(a[k] > 0, k);
    assert.equal(a.totalPosts, 2);
    for (const p of a.platformBreakdown) reads(p, { platform: "string", reach: "number", posts: "number", engagement: "number", performance: "number" });
    const y = ok(await c.get("/api/yearly-analytics"));
    reads(y, {
      yearToDate: { totalPosts: "number", totalReach: "number", avgEngagement: "number", totalConversions: "number", yearlyTargets: { posts: "number", reach: "number", engagement: "number", conversions: "number" } },
      yearEndProjection: { posts: "number", reach: "number", engagement: "number", conversions: "number" },
    });
  });

  it("reset password: forgot (always 200), the e-mailed link loads the app, validate, reset", async () => {
    ok(await browser().post("/api/forgot-password", { email: customer.email, phone: customer.phone }));
    const mail = await until("the reset e-mail", () => server.deps.mailer.outbox.find((m) => m.to === customer.email && /reset/i.test(m.subject)));
    const link = new URL(/https?:\/\/\S+/.exec(mail.text)![0]);
    const visitor = browser();
    assert.match((await visitor.get(link.pathname + link.search, HTML)).text, /id="root"/);
    const token = link.searchParams.get("token")!;
    const email = link.searchParams.get("email")!;
    assert.equal(email, customer.email);
    ok(await visitor.post("/api/validate-reset-token", { token, email }));
    ok(await visitor.post("/api/reset-password", { token, email, password: "second password!" }));
    customer.password = "second password!";
    // A reset ends every session, this browser's too.
    assert.equal((await c.get("/api/user")).status, 401);
  });

  it("logout and login again by phone", async () => {
    ok(await c.post("/api/auth/login", { phone: customer.phone, password: customer.password }));
    const out = ok(await c.request("POST", "/api/auth/logout", undefined, { "content-type": "application/json" }));
    assert.equal(out.success, true);
    assert.match((await c.get("/logout", HTML)).text, /id="root"/);
    assert.equal((await c.get("/api/login", HTML)).headers.get("location"), "/login");
    const wrong = await c.post("/api/auth/login", { phone: customer.phone, password: "first password!" });
    assert.equal(wrong.status, 401);
    assert.equal(typeof wrong.body.error, "string");
    reads(ok(await c.post("/api/auth/login", { phone: customer.phone, password: customer.password })), { user: USER });
    reads(ok(await c.get("/api/user")), USER);
  });
});
