// The fuzz test's inputs: the mounted routes, read from the running Express
// app (so a route added tomorrow is fuzzed without touching the test), and a
// seeded generator of hostile values, bodies, queries and path parameters —
// the same requests on every run.
import type { Express } from "express";

export interface MountedRoute {
  method: string;
  path: string;
}

/** Every route of the app, with its mount prefix; routers under `skip` prefixes are left out. */
export function mountedRoutes(app: Express, skip: string[] = []): MountedRoute[] {
  const found: MountedRoute[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      // A route layer's rawPath is the route's own path; a router's is where it is mounted.
      const here = layer.route ? `${prefix}${layer.route.path}` : layer.slash ? prefix : `${prefix}${layer.rawPath ?? ""}`;
      if (skip.some((s) => here.startsWith(s))) continue;
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) if (method !== "_all") found.push({ method: method.toUpperCase(), path: here });
      } else if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack, here);
    }
  };
  walk((app as any).router.stack, "");
  return found;
}

/** mulberry32: a small, well-known seeded PRNG. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  "", " ", "a\u0000b", "\u0000", "bell\u0007", "esc\u001b[31m", "del\u007f", "lone \ud800 surrogate", "\udc00",
  "x".repeat(10_001), "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "../../etc/passwd",
  "<script>alert(1)</script>", "' or 1=1 --", "%00", "\\", "😀", "\u202e", "null", "undefined", "NaN", "Infinity", "-1",
];
const DATES = [
  "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "+275760-09-13T00:00:00Z", "-000001-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00", "1969-12-31T23:59:59Z",
  "2026-06-01T10:00:00+10:00", "not a date", "1e10",
];
const NUMBERS = [0, -1, 1, 1.5, -2_147_483_649, 2_147_483_648, 9_007_199_254_740_993, 1e308, -1e308, 5e-324];
// Plausible values, so that some requests get past the schemas and into the services.
const PLAUSIBLE = ["x", "twitter", "youtube", "facebook", "draft", "approved", "publish_all", "+61412345678", "0412345678", "123456", "a@example.com", "https://example.com/v.mp4", "http://127.0.0.1:1/x.mp4", "correct horse battery", true, false];
// One of each kind, given to every field of every route in turn.
const CORE: unknown[] = [
  "a\u0000b", "bell\u0007", "lone \ud800", "x".repeat(10_001), "", "__proto__", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00",
  -1, 2_147_483_648, 1e308, null, true, ["x"], JSON.parse('{"__proto__":{"polluted":true}}'),
];
export const FIELDS = [
  "content", "platform", "scheduledFor", "editedAt", "edited", "status", "mediaUrl", "postId", "phone", "code", "email", "password",
  "newPhone", "verificationCode", "pageId", "action", "plan", "token",
];
export const PARAMS = ["1", "0", "-1", "99999999999999999999", "1e5", "1.5", "__proto__", "constructor", "x", "twitter", "youtube", "%00", "%E0%A4%A", "%2e%2e", "a".repeat(300), "%F0%9F%98%80", "null"];

// A valid-looking value per field name: bodies start from these and one or two
// fields are made hostile, so most requests get past the other fields' checks
// and the hostile one reaches as deep as it can.
const VALID: Record<string, unknown> = {
  content: "a post", platform: "x", scheduledFor: "2030-01-01T09:00:00Z", editedAt: "2030-01-01T09:00:00Z", edited: true,
  status: "draft", mediaUrl: "https://example.com/v.mp4", phone: "+61412345678", code: "123456", email: "fuzz@example.com",
  password: "correct horse battery", newPhone: "+61412345679", verificationCode: "123456", pageId: "123", action: "publish_all",
};

export class Fuzzer {
  constructor(
    readonly random: () => number,
    /** Values that name the caller's own things (e.g. postId), so routes find them. */
    readonly own: Record<string, unknown> = {},
  ) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  value(depth = 0): unknown {
    const r = this.random();
    if (r < 0.3) return this.pick(STRINGS);
    if (r < 0.45) return this.pick(DATES);
    if (r < 0.6) return this.pick(NUMBERS);
    if (r < 0.78) return this.pick(PLAUSIBLE);
    if (r < 0.84) return null;
    if (depth > 1) return this.pick(STRINGS);
    if (r < 0.92) return [this.value(depth + 1), this.value(depth + 1)];
    // An own "__proto__" key, as JSON.parse makes it (an object literal would set the prototype instead).
    const o = JSON.parse('{"__proto__":{"polluted":true}}');
    o[this.pick(FIELDS)] = this.value(depth + 1);
    return o;
  }

  /**
   * The JSON bodies for a route. First, systematically: every field in turn
   * gets each of the CORE hostile values while the others stay valid-looking,
   * so each field's check is reached with every kind of value. Then `extra`
   * random ones: random fields and values, prototype keys, unknown keys, or a
   * hostile JSON shape altogether.
   */
  bodies(fields: string[], extra: number): Array<{ text: string; systematic: boolean }> {
    const field = (f: string, v: unknown) => `${JSON.stringify(f)}:${JSON.stringify(v)}`;
    const valid = { ...VALID, ...this.own };
    const out: Array<{ text: string; systematic: boolean }> = [];
    for (const hostile of fields) {
      for (const v of CORE) {
        out.push({ text: `{${fields.map((f) => (f === hostile ? field(f, v) : f in valid ? field(f, valid[f]) : "")).filter(Boolean).join(",")}}`, systematic: true });
      }
    }
    for (let i = 0; i < extra; i++) {
      const r = this.random();
      if (r < 0.15) {
        out.push({ systematic: false, text: this.pick(["null", "[]", "123", '"text"', "true", "{", '{"a":', "[".repeat(5000) + "]".repeat(5000), '{"a":1,"a":2}', "\ufeff{}"]) });
        continue;
      }
      const parts: string[] = [];
      for (const f of fields) if (this.random() < 0.7) parts.push(field(f, this.random() < 0.5 ? valid[f] ?? this.value() : this.value()));
      if (!fields.length || this.random() < 0.3) parts.push(field(this.pick(FIELDS), this.value()));
      if (this.random() < 0.3) parts.push(`"__proto__":{"isAdmin":true,"userId":1}`);
      if (this.random() < 0.2) parts.push(`"constructor":{"prototype":{"isAdmin":true}}`);
      if (this.random() < 0.2) parts.push(field(this.pick(STRINGS), 1));
      out.push({ text: `{${parts.join(",")}}`, systematic: false });
    }
    return out;
  }

  /** encodeURIComponent, but a lone surrogate goes out as the invalid UTF-8 bytes a hostile client would send. */
  encode(v: string): string {
    return encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, "\uFFFF")).replaceAll("%EF%BF%BF", "%ED%A0%80");
  }

  query(): string {
    if (this.random() < 0.5) return "";
    const keys = ["mode", "force_reauth", "error", "code", "state", "platform", "limit", "__proto__", "constructor", "a[b]", "from", "to"];
    const pairs: string[] = [];
    for (let i = 0; i < 1 + Math.floor(this.random() * 3); i++) {
      const v = this.value();
      pairs.push(`${this.encode(this.pick(keys))}=${this.encode(typeof v === "string" ? v.slice(0, 200) : (JSON.stringify(v) ?? ""))}`);
    }
    if (this.random() < 0.2) pairs.push("mode=popup&mode=redirect");
    return `?${pairs.join("&")}`;
  }

  contentType(): string {
    if (this.random() < 0.75) return "application/json";
    return this.pick([
      "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
      "application/json; charset=utf-16", "application/json; charset=latin1", "application/xml", "",
    ]);
  }

  /** Fills `:name` parameters with the caller's own or valid values (`own.<name>`, else x for a platform, else 1). */
  validPath(template: string): string {
    return template.replace(/:(\w+)/g, (_, name: string) => String(this.own[name] ?? (name === "platform" ? "x" : "1")));
  }

  /**
   * Query strings for a GET route, systematically: each known query key with
   * a hostile value in turn, then each hostile path parameter in turn.
   */
  systematicGets(template: string): string[] {
    const values = ["a\u0000b", "server_error", "__proto__", "x".repeat(3000), "-1", "9999-12-31T23:59:59-14:00", "lone \ud800"];
    const keys = ["error", "code", "state", "mode", "force_reauth", "platform", "limit", "from", "to"];
    const out = keys.map((k, i) => `${this.validPath(template)}?${k}=${this.encode(values[i % values.length]!)}`);
    if (template.includes(":")) {
      for (const p of PARAMS) out.push(template.replace(/:(\w+)/g, () => (p.includes("%") ? p : this.encode(p))));
    }
    return out;
  }

  /** Fills `:name` parameters with hostile values (percent-encoding kept when it already is). */
  path(template: string): string {
    return template.replace(/:(\w+)/g, () => {
      const p = this.pick(PARAMS);
      return p.includes("%") ? p : this.encode(p);
    });
  }
}
