// The fuzz test of every mounted route (issue 19), run once per caller by
// fuzz-anonymous.test.ts and fuzz-logged-in.test.ts: wrong types, NUL and
// control characters, huge and negative numbers, impossible dates, prototype
// keys, hostile path parameters and query strings, malformed JSON and wrong
// content types. Zero 5xx, zero stack traces, zero unhandled errors logged.
// The generator is seeded: every run sends the same requests. Two files, not
// one, so each caller's half has the whole per-file time budget on a loaded
// machine (on the embedded database at load 16 both halves together took
// longer than the test runner's 300 s).
import assert from "node:assert/strict";
import type { Express } from "express";
import { after, before, describe, it } from "node:test";
import { Client } from "../support/client.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { FIELDS, Fuzzer, mountedRoutes, seeded, type MountedRoute } from "./fuzz-input.ts";

// Requests per route and caller: a body-taking route gets every field × every core hostile value, plus random ones.
const PER_ROUTE = { randomBodies: 20, withoutBody: 16 };
// The platform simulation is not our API (and in production its control API is operator-only).
const SKIP = ["/sandbox"];
// Stack frames, source paths or driver internals in an answer.
const LEAK = /\n\s+at |node_modules|\/server\/|\.ts:\d+|DrizzleQueryError|Failed query|duplicate key|violates/;

interface Finding {
  who: string;
  method: string;
  path: string;
  status: number;
  body: string;
  text: string;
}

export type Caller = "anonymous" | "logged in";

/**
 * Fuzzes every route as one caller. `minimumRequests` guards against a
 * harness that quietly stopped sending (a route list found empty, say).
 */
export function describeFuzz(who: Caller, seed: number, minimumRequests: number): void {
  describe(`fuzzing every route, ${who}`, () => {
    let server: TestServer;
    let routes: MountedRoute[];
    let owner: { client: Client; identity: { email: string; password: string } };
    const findings: Finding[] = [];
    let sent = 0;
    const own: Record<string, unknown> = {};

    before(async () => {
      server = await startTestServer();
      routes = mountedRoutes(server.server.listeners("request")[0] as Express, SKIP);
      owner = await signedUpClient(server, "fuzz");
      // Something of the user's own for the id-taking routes to find.
      await freshTarget();
    });
    after(() => server.close());

    /** A draft of the owner's for the id-taking routes to find (cancellation deletes drafts; edits change them). */
    async function freshTarget() {
      const post = await owner.client.post("/api/posts", { platform: "x", content: "fuzz target" });
      assert.equal(post.status, 201, post.text);
      Object.assign(own, { postId: post.body.id, id: post.body.id });
    }

    /** One request with the client's cookies; a stream (server-sent events) is judged by its status alone. */
    async function send(who: string, client: Client, method: string, path: string, body: string | undefined, contentType: string) {
      const headers: Record<string, string> = {};
      if (client.cookies.size) headers.cookie = client.cookieHeader;
      if (method !== "GET") headers.origin = client.origin;
      if (body !== undefined && contentType) headers["content-type"] = contentType;
      let status: number;
      let text = "";
      try {
        const res = await fetch(new URL(path, client.baseUrl), { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(30_000) });
        status = res.status;
        if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) await res.body?.cancel();
        else text = await res.text();
      } catch (err) {
        findings.push({ who, method, path, status: 0, body: body?.slice(0, 200) ?? "", text: `no answer: ${(err as Error).message}` });
        return undefined;
      }
      sent += 1;
      // FUZZ_DEBUG=/api/posts prints what those paths were sent and answered.
      if (process.env.FUZZ_DEBUG && path.startsWith(process.env.FUZZ_DEBUG)) console.error(who, method, path, status, body?.slice(0, 120), text.slice(0, 120));
      if (status >= 500 || LEAK.test(text)) findings.push({ who, method, path, status, body: body?.slice(0, 200) ?? "", text: text.slice(0, 300) });
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON: HTML pages and redirects */
      }
      return { status, body: json };
    }

    /**
     * The fields a route takes, as its schema names them: an empty object names
     * the required ones; every known field set to junk names the optional ones
     * too (a strict schema reports the others as unrecognized).
     */
    async function fieldsOf(client: Client, route: MountedRoute): Promise<string[]> {
      if (route.method === "GET") return [];
      const named = new Set<string>();
      const path = route.path.replace(/:\w+/g, "1");
      for (const body of ["{}", JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, { junk: true }])))]) {
        const r = await send("probe", client, route.method, path, body, "application/json");
        for (const d of (r?.body?.details as { path?: string; message?: string }[] | undefined) ?? []) {
          if (d.path && !/unrecognized/i.test(d.message ?? "")) named.add(d.path.split(".")[0]!);
        }
      }
      named.delete("body");
      return [...named];
    }

    async function fuzzRoute(who: string, client: () => Promise<Client>, route: MountedRoute, fuzz: Fuzzer) {
      const c = await client();
      const fields = await fieldsOf(c, route);
      type Request = { path: string; body?: string; contentType: string };
      const random = (body?: string): Request => ({ path: `${fuzz.path(route.path)}${fuzz.query()}`, body, contentType: fuzz.contentType() });
      const requests: Request[] =
        route.method === "GET"
          ? [...fuzz.systematicGets(route.path).map((path) => ({ path, contentType: "" })), ...Array.from({ length: PER_ROUTE.withoutBody }, () => random())]
          : fuzz.bodies(fields, PER_ROUTE.randomBodies).map((b) =>
              // The systematic bodies are meant to reach the field checks: JSON, on the caller's own thing.
              b.systematic ? { path: fuzz.validPath(route.path), body: b.text, contentType: "application/json" } : random(b.text),
            );
      // A few at a time: the requests are fixed by the seed, only their interleaving varies.
      for (let i = 0; i < requests.length; i += 4) {
        await Promise.all(requests.slice(i, i + 4).map((q) => send(who, c, route.method, q.path, q.body, q.contentType)));
      }
    }

    it("finds the routes to fuzz from the app itself", () => {
      const paths = routes.map((r) => `${r.method} ${r.path}`);
      for (const expected of ["POST /api/posts", "PUT /api/posts/:id", "POST /api/verify-code", "GET /auth/:platform", "GET /api/check-connection"]) {
        assert.ok(paths.includes(expected), `${expected} not found among ${paths.length} routes`);
      }
      assert.ok(!paths.some((p) => p.includes("/sandbox")));
    });

    /** The owner, logged in again if a route (logout, cancellation…) ended the session, with a fresh draft to aim at. */
    const loggedIn = async () => {
      if ((await owner.client.get("/api/user")).status !== 200) {
        const r = await owner.client.post("/api/auth/login", { email: owner.identity.email, password: owner.identity.password });
        assert.equal(r.status, 200, r.text);
      }
      await freshTarget();
      return owner.client;
    };

    it(`${who}: no 5xx, no stack trace`, async () => {
      const fuzz = new Fuzzer(seeded(seed), own);
      const client = who === "anonymous" ? async () => server.client() : loggedIn;
      for (const route of routes) await fuzzRoute(who, client, route, fuzz);
    });

    it("sent thousands of requests and found nothing", (t) => {
      t.diagnostic(`${sent} requests over ${routes.length} routes`);
      assert.ok(sent >= minimumRequests, `only ${sent} requests`);
      const unhandled = server.logs.filter((l) => l.msg === "Unhandled error" || l.level >= 50);
      assert.deepEqual(findings.slice(0, 20), [], `${findings.length} findings`);
      assert.deepEqual(unhandled.slice(0, 10), []);
    });
  });
}
