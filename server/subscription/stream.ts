// GET /api/subscription-status-sse (CLIENT.md §2): an EventSource stream of
// unnamed events (no `event:` line; the client only has onmessage), each
// `data: {"type","data","timestamp"}`: `connected` first, then for a logged-in
// user its `subscription_status` now and whenever its plan changes, or
// `subscription_cancelled` when it ends; `ping` to keep proxies from closing
// the stream. Anonymous streams get only `connected` and pings. Changes arrive
// by LISTEN on the channel events.ts notifies, so a plan granted or ended by
// any process reaches every process's streams.
import type { ApiRoute } from "../http/openapi.ts";
import { Router, type Request, type Response } from "express";
import type { Deps } from "../deps.ts";
import { findUserById } from "../auth/queries.ts";
import { HttpError, safeError } from "../http/errors.ts";
import { subscriptionUsage } from "../quota/usage.ts";
import { SUBSCRIPTION_CHANNEL } from "./events.ts";

export interface SubscriptionStreams {
  router: Router;
  /** Ends every open stream and stops listening (before the HTTP server closes: open streams would hold it). */
  close(): Promise<void>;
}

type Stream = { res: Response; userId?: number };

function send(res: Response, type: string, data: unknown, now: Date): void {
  res.write(`data: ${JSON.stringify({ type, data, timestamp: now.toISOString() })}\n\n`);
}

export function subscriptionStreams(deps: Deps, options: { pingMs: number }): SubscriptionStreams {
  const streams = new Set<Stream>();
  let listening: Promise<() => Promise<void>> | undefined;
  let closed = false;

  /**
   * The user's plan as the client reads it. After a change (`changed`), a plan
   * that is no longer active is `subscription_cancelled` (the client then
   * clears its state and leaves the page); on connect it is always the status.
   */
  async function push(stream: Stream, changed: boolean): Promise<void> {
    const user = stream.userId ? await findUserById(deps.db, stream.userId) : undefined;
    if (!user || stream.res.writableEnded) return;
    const now = deps.clock.now();
    const usage = await subscriptionUsage(deps, user, now);
    const data = { plan: user.subscriptionPlan, active: user.subscriptionActive, remainingPosts: usage.remainingPosts, totalPosts: usage.totalAllocation, usage };
    if (user.subscriptionActive || !changed) send(stream.res, "subscription_status", data, now);
    else send(stream.res, "subscription_cancelled", { ...data, action: "clearSession", redirectTo: "/subscription" }, now);
  }

  const pushQuietly = (s: Stream, changed: boolean) =>
    push(s, changed).catch((err) => deps.log.warn({ error: safeError(err), userId: s.userId }, "Subscription stream update failed"));

  function onNotify(payload: string): void {
    // "" after a lost LISTEN connection: changes may have been missed, so everyone gets a fresh status.
    const userId = payload === "" ? undefined : Number(payload);
    for (const s of streams) if (s.userId !== undefined && (userId === undefined || s.userId === userId)) void pushQuietly(s, true);
  }

  const pings = setInterval(() => {
    const now = deps.clock.now();
    for (const s of streams) send(s.res, "ping", {}, now);
  }, options.pingMs);
  pings.unref();

  const router = Router();
  router.get("/api/subscription-status-sse", async (req: Request, res: Response) => {
    if (closed) throw new HttpError(503, "shutting_down", "The server is restarting; reconnect in a moment");
    // Listening starts with the first stream; a failure is retried by the next one.
    listening ??= deps.database.listen(SUBSCRIPTION_CHANNEL, onNotify).catch((err) => {
      listening = undefined;
      throw err;
    });
    await listening;
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      // Proxies such as nginx would otherwise hold events back.
      "X-Accel-Buffering": "no",
    });
    const stream: Stream = { res, userId: req.session?.userId };
    streams.add(stream);
    req.on("close", () => streams.delete(stream));
    send(res, "connected", { authenticated: stream.userId !== undefined }, deps.clock.now());
    if (stream.userId !== undefined) await pushQuietly(stream, false);
  });

  return {
    router,
    async close() {
      closed = true;
      clearInterval(pings);
      for (const s of streams) s.res.end();
      streams.clear();
      if (listening) await (await listening.catch(() => async () => {}))();
    },
  };
}

/** The contract of this route (server/http/contract.ts). */
export const subscriptionStreamApi: ApiRoute[] = [
  {
    method: "get", path: "/api/subscription-status-sse", tag: "subscription", summary: "Server-sent events: connected, subscription_status, subscription_cancelled, ping", errors: [503],
    description: "Unnamed events whose data is {type, data, timestamp}. Anonymous streams get connected and pings only.",
    responses: { 200: { description: "An event stream", contentType: "text/event-stream" } },
  },
];
