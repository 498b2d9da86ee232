// X API v2: users/me, media upload (x-media.ts), create Post (weighted
// length, duplicates, 100 per 15 minutes), a user's Posts, one Post's public
// metrics.
import express, { type Request, type Router } from "express";
import { xWeightedLength } from "../text.ts";
import { bearer, Fail, handle, params, xFail } from "./kit.ts";
import { usableMedia, xMediaRoutes } from "./x-media.ts";
import { ids, type SandboxState, type Token } from "./state.ts";

const WINDOW = 15 * 60_000;
const DAY = 86_400_000;

export function xRoutes(s: SandboxState): Router {
  const r = express.Router();
  const api = "/x-api/2";

  const limited = (untilMs: number) =>
    xFail(429, "Too Many Requests", "Too Many Requests", {
      "x-rate-limit-limit": String(s.settings.xPostsPer15Min),
      "x-rate-limit-remaining": "0",
      "x-rate-limit-reset": String(Math.ceil(untilMs / 1000)),
    });

  function token(req: Request): Token {
    const st = s.tokenState("x", bearer(req));
    if (st.problem) throw xFail(401, "Unauthorized", "Unauthorized");
    // Pay-per-use: an app out of credits is refused on every call, whoever's token it sends.
    if (s.settings.xCreditsDepleted) {
      throw new Fail({ status: 402, json: { title: "Payment Required", detail: "credits depleted", type: "https://api.x.com/2/problems/credits-depleted", status: 402 } });
    }
    const until = s.rateLimitedUntil("x", st.token!.user);
    if (until !== undefined) throw limited(until);
    return st.token!;
  }
  const me = (t: Token) => ({ id: ids.xUser(t.user), name: `${t.user} (sandbox)`, username: t.user.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 15) });
  const mine = (t: Token) => s.postsOf("x", ids.xUser(t.user));

  r.get(`${api}/users/me`, handle(s, "x.users.me", (req) => ({ json: { data: me(token(req)) } })));

  // Media only through the upload API (an image in one call, a video in a chunked session), then named by the post.
  xMediaRoutes(s, r, api, token);

  r.post(`${api}/tweets`, handle(s, "x.tweets.create", (req) => {
    const t = token(req);
    if (!t.scopes.includes("tweet.write")) throw xFail(403, "Forbidden", "You are not permitted to perform this action.");
    const mediaIds: unknown = req.body?.media?.media_ids;
    if (mediaIds !== undefined) {
      const list = Array.isArray(mediaIds) ? mediaIds.map(String) : [];
      // Not this user's, expired, or a video whose processing has not succeeded: X's one answer for all of them.
      if (!list.length || list.length > 4 || list.some((m) => !usableMedia(s, t.user, m))) {
        throw new Fail({ status: 400, json: { errors: [{ parameters: { "media.media_ids": list }, message: "Your media IDs are invalid." }], title: "Invalid Request", detail: "One or more parameters to your request was invalid.", type: "https://api.twitter.com/2/problems/invalid-request" } });
      }
    }
    const text = typeof req.body?.text === "string" ? req.body.text.normalize("NFC") : "";
    if (!text) {
      throw new Fail({ status: 400, json: { errors: [{ message: "$.text: is missing but it is required" }], title: "Invalid Request", detail: "One or more parameters to your request was invalid.", type: "https://api.twitter.com/2/problems/invalid-request" } });
    }
    if (xWeightedLength(text) > 280) throw xFail(403, "Forbidden", "Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.");
    const recent = mine(t).filter((x) => x.createdAt > s.now() - WINDOW);
    if (recent.length >= s.settings.xPostsPer15Min) throw limited(Math.min(...recent.map((x) => x.createdAt)) + WINDOW);
    // The 24-hour cap per user: its own headers beside the 15-minute window's (which still has room).
    const today = mine(t).filter((x) => x.createdAt > s.now() - DAY);
    if (today.length >= s.settings.xUserPostsPer24Hours) {
      const reset = String(Math.ceil((Math.min(...today.map((x) => x.createdAt)) + DAY) / 1000));
      throw xFail(429, "Too Many Requests", "Too Many Requests", {
        "x-rate-limit-limit": String(s.settings.xPostsPer15Min),
        "x-rate-limit-remaining": String(s.settings.xPostsPer15Min - recent.length - 1),
        "x-rate-limit-reset": String(Math.ceil((s.now() + WINDOW) / 1000)),
        "x-user-limit-24hour-limit": String(s.settings.xUserPostsPer24Hours),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": reset,
      });
    }
    if (mine(t).some((x) => x.text === text && x.createdAt > s.now() - 86_400_000)) {
      throw xFail(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.");
    }
    const id = `18${s.nextId().padStart(17, "0")}`;
    const media = Array.isArray(mediaIds) ? { mediaIds: mediaIds.map(String) } : {};
    s.publish({ platform: "x", id, user: t.user, account: ids.xUser(t.user), text, createdAt: s.now(), ...media });
    return { status: 201, json: { data: { id, text, edit_history_tweet_ids: [id] } } };
  }));

  r.get(`${api}/users/:id/tweets`, handle(s, "x.tweets.list", (req) => {
    const t = token(req);
    if (req.params.id !== ids.xUser(t.user)) throw xFail(403, "Forbidden", "Sorry, you are not authorized to see this user's Posts.");
    const p = params(req);
    const since = p.start_time ? Date.parse(p.start_time) : 0;
    const max = Math.min(Math.max(Number(p.max_results ?? 10) || 10, 5), 100);
    const data = mine(t)
      .filter((x) => x.createdAt >= since)
      .reverse() // among equal times, the later one first
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, max)
      .map((x) => ({ id: x.id, text: x.text, created_at: new Date(x.createdAt).toISOString(), edit_history_tweet_ids: [x.id] }));
    return { json: data.length ? { data, meta: { result_count: data.length, newest_id: data[0]!.id, oldest_id: data.at(-1)!.id } } : { meta: { result_count: 0 } } };
  }));

  r.get(`${api}/tweets/:id`, handle(s, "x.tweets.get", (req) => {
    const t = token(req);
    const found = s.postById(String(req.params.id));
    const post = found?.platform === "x" ? found : undefined;
    if (!post) {
      return { json: { errors: [{ value: req.params.id, detail: `Could not find tweet with id: [${req.params.id}].`, title: "Not Found Error", resource_type: "tweet", parameter: "id", type: "https://api.twitter.com/2/problems/resource-not-found" }] } };
    }
    const m = s.analytics.get(post.id) ?? { reach: 0, impressions: 0, engagement: 0 };
    void t;
    return {
      json: {
        data: {
          id: post.id,
          text: post.text,
          edit_history_tweet_ids: [post.id],
          public_metrics: { retweet_count: 0, reply_count: 0, like_count: m.engagement, quote_count: 0, bookmark_count: 0, impression_count: m.impressions },
        },
      },
    };
  }));
  return r;
}
