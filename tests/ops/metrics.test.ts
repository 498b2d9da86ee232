// /metrics (prom-client): the database's families, the refresh and runner
// counters, the HTTP duration histogram by route and status, and the default
// process metrics; operator-only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { postLogs, posts } from "../../shared/schema.ts";
import { connectPlatform } from "../support/connect.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { givePlan } from "../posts/helpers.ts";

const OPS_TOKEN = "ops-token-for-tests-0123456789";

describe("/metrics", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { OPS_TOKEN } });
  });
  after(() => server.close());

  it("is refused without the operator token, even to a logged-in user", async () => {
    const { client } = await signedUpClient(server, "m");
    assert.equal((await client.get("/metrics")).status, 401);
    assert.equal((await client.get("/metrics", { authorization: "Bearer wrong-token-wrong-token" })).status, 403);
  });

  it("reports publishes, refreshes, connections and queue lag", async () => {
    const { client, user } = await signedUpClient(server, "m2");
    await connectPlatform(client, "x");
    const refresh = await client.post("/api/platform-connections/x/refresh", {});
    assert.equal(refresh.body.success, true, refresh.text);
    const now = server.clock.now();
    const [post] = await server.deps.db
      .insert(posts)
      .values({ userId: user.id, platform: "x", content: "due", status: "approved", nextAttemptAt: new Date(now.getTime() - 120_000) })
      .returning();
    await server.deps.db.insert(postLogs).values({ postId: post!.id, userId: user.id, platform: "x", attempt: 1, status: "published" });

    const r = await server.client().get("/metrics", { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/plain/);
    assert.match(r.text, /^agencyiq_publish_attempts_total\{platform="x",outcome="published"\} 1$/m);
    assert.match(r.text, /^agencyiq_token_refreshes_total\{platform="x",outcome="refreshed"\} 1$/m);
    assert.match(r.text, /^agencyiq_connections\{platform="x",status="connected"\} 1$/m);
    assert.match(r.text, /^agencyiq_posts\{platform="x",status="approved"\} 1$/m);
    const lag = Number(/^agencyiq_publish_queue_lag_seconds (\S+)$/m.exec(r.text)?.[1]);
    assert.equal(lag, 120);
  });

  it("counts requests by matched route and status, the runner's attempts, and the process", async () => {
    const scrape = async () => (await server.client().get("/metrics", { authorization: `Bearer ${OPS_TOKEN}` })).text;
    const sample = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}()\[\].*+?^$|\\]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    const { client, user } = await signedUpClient(server, "m3");
    await givePlan(server.deps, user.id);
    await connectPlatform(client, "linkedin");
    const before = await scrape();
    for (const id of [1, 2, 3]) assert.equal((await client.put(`/api/posts/${1_000_000 + id}`, { content: "x" })).status, 404);
    const published = await client.post("/api/post", { platform: "linkedin", content: "counted" });
    assert.equal(published.status, 200, published.text);
    const after = await scrape();

    const put404 = 'http_request_duration_seconds_count{method="PUT",route="/api/posts/:id",status_code="404"}';
    assert.equal(sample(after, put404) - sample(before, put404), 3, "one observation per request, labelled by the declared route");
    assert.match(after, /^http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/api\/post",status_code="200"\} \d+$/m);
    assert.doesNotMatch(after, /route="\/api\/posts\/100000/, "never the concrete path");
    const attempts = 'agencyiq_runner_attempts_total{platform="linkedin",outcome="published"}';
    assert.equal(sample(after, attempts) - sample(before, attempts), 1);
    for (const family of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      assert.match(after, new RegExp(`^# TYPE ${family} `, "m"), family);
    }
  });
});
