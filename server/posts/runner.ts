// The publishing runner: claims due posts in batches, publishes them with
// bounded concurrency per platform and per connection, and keeps claiming
// while work remains. One runner per process (per Deps), shared by the timer
// and the on-demand endpoints so the bounds hold for both.
import { PLATFORMS } from "../../shared/schema.ts";
import { connectionKey } from "../connections/token-manager.ts";
import type { Deps } from "../deps.ts";
import { safeError } from "../http/errors.ts";
import { countRunnerAttempt } from "../ops/metrics.ts";
import { runAttempt, type AttemptOutcome, type TokenSource } from "./attempt.ts";
import { resumeReconnected } from "./complete.ts";
import { claimDue, recoverExpiredLeases, releaseUnstarted, type ClaimedPost, type ClaimFilter } from "./lease.ts";
import { KeyedLimiter } from "./limiter.ts";
import { batchTokens } from "./tokens.ts";

export interface DrainResult {
  processed: number;
  published: number;
  failed: number;
  retried: number;
  unknown: number;
  paused: number;
  /** One line per post that did not go out, naming the check or platform answer. */
  errors: string[];
  /** Per post, for callers that publish one post (POST /api/post). */
  outcomes: Map<number, AttemptOutcome>;
}

const emptyResult = (): DrainResult => ({ processed: 0, published: 0, failed: 0, retried: 0, unknown: 0, paused: 0, errors: [], outcomes: new Map() });

export class PublishRunner {
  private readonly byPlatform: KeyedLimiter;
  private readonly byConnection: KeyedLimiter;
  /** Claimed but not yet sent: what shutdown hands back. */
  private readonly unstarted = new Map<number, ClaimedPost>();
  /** Attempts under way: shutdown waits for them (up to its grace). */
  private readonly running = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(private readonly deps: Deps) {
    this.byPlatform = new KeyedLimiter(deps.config.publishing.perPlatform);
    this.byConnection = new KeyedLimiter(deps.config.publishing.perConnection);
  }

  /** How many posts may be claimed and waiting at once in this process. */
  private get capacity(): number {
    const p = this.deps.config.publishing;
    // Twice the platforms' slots, so a busy platform never leaves the others idle waiting for a
    // claim, and two batches, so the next claim is a whole batch (a claim costs about the same
    // for 10 posts as for 100).
    return Math.max(2 * p.batchSize, p.perPlatform * PLATFORMS.length * 2);
  }

  /** The timer's work: recover dead leases, resume reconnected posts, publish everything due. */
  async tick(): Promise<DrainResult> {
    if (this.stopping) return emptyResult();
    await recoverExpiredLeases(this.deps);
    await resumeReconnected(this.deps);
    return this.drain();
  }

  /** Publishes due posts (optionally only a user's or some ids) until none is left. */
  async drain(filter: ClaimFilter = {}): Promise<DrainResult> {
    const result = emptyResult();
    const mine = new Set<Promise<void>>();
    const { batchSize } = this.deps.config.publishing;
    while (!this.stopping) {
      const room = this.capacity - this.unstarted.size - this.running.size;
      if (room < Math.ceil(batchSize / 2) && mine.size > 0) {
        await Promise.race(mine);
        continue;
      }
      const claimed = await this.claim(Math.min(batchSize, Math.max(room, 1)), filter);
      // One query for the whole batch's tokens, made when its first post gets a slot.
      const tokens = batchTokens(this.deps, claimed);
      for (const post of claimed) {
        const p = this.publishOne(post, result, tokens).finally(() => mine.delete(p));
        mine.add(p);
      }
      if (claimed.length === 0) {
        if (mine.size === 0) break;
        await Promise.race(mine);
      }
    }
    await Promise.all(mine);
    return result;
  }

  /** Claims in flight: shutdown waits for them, so what they take is handed back rather than left leased. */
  private readonly claims = new Set<Promise<ClaimedPost[]>>();

  private claim(limit: number, filter: ClaimFilter): Promise<ClaimedPost[]> {
    const c = claimDue(this.deps, limit, { ...filter, busy: this.busyConnections() }).then((claimed) => {
      for (const post of claimed) {
        this.unstarted.set(post.id, post);
        this.held.set(connectionKey(post), (this.held.get(connectionKey(post)) ?? 0) + 1);
      }
      return claimed;
    });
    this.claims.add(c);
    return c.finally(() => this.claims.delete(c));
  }

  /** Posts held (claimed, waiting or running) per connection in this process. */
  private readonly held = new Map<string, number>();

  /** Connections with enough posts here already: the next claim leaves theirs for later (or other processes). */
  private busyConnections(): string[] {
    const enough = this.deps.config.publishing.perConnection * 2;
    return [...this.held].filter(([, n]) => n >= enough).map(([k]) => k);
  }

  private async publishOne(post: ClaimedPost, result: DrainResult, tokens: TokenSource): Promise<void> {
    const releaseConnection = await this.byConnection.acquire(connectionKey(post));
    const releasePlatform = await this.byPlatform.acquire(post.platform);
    let released = false;
    // The bounds are on platform calls: freed as soon as the platform has answered.
    const release = () => {
      if (released) return;
      released = true;
      releasePlatform();
      releaseConnection();
    };
    try {
      // Shutdown began while this post waited: it is handed back, not sent.
      if (this.stopping || !this.unstarted.delete(post.id)) return;
      const work = runAttempt(this.deps, post, { tokenOf: tokens, platformDone: release });
      this.running.add(work);
      try {
        const outcome = await work;
        this.count(result, post, outcome);
      } finally {
        this.running.delete(work);
      }
    } catch (err) {
      // The lease stays: when it runs out the post is reconciled, never lost.
      this.deps.log.error({ error: safeError(err), postId: post.id, platform: post.platform }, "Publish attempt crashed");
      countRunnerAttempt(post.platform, "crashed");
      result.processed++;
      result.errors.push(`Post ${post.id} (${post.platform}): internal error; it will be checked and retried`);
    } finally {
      release();
      const n = (this.held.get(connectionKey(post)) ?? 1) - 1;
      if (n > 0) this.held.set(connectionKey(post), n);
      else this.held.delete(connectionKey(post));
    }
  }

  private count(result: DrainResult, post: ClaimedPost, o: AttemptOutcome): void {
    countRunnerAttempt(post.platform, o.kind);
    result.processed++;
    result.outcomes.set(post.id, o);
    const line = (what: string, message: string) => result.errors.push(`Post ${post.id} (${post.platform}) ${what}: ${message}`);
    switch (o.kind) {
      case "published":
        result.published++;
        break;
      case "failed":
        result.failed++;
        line(`failed [${o.check}]`, o.message);
        break;
      case "retry":
        result.retried++;
        line(`will retry at ${o.at.toISOString()} [${o.code}]`, o.message);
        break;
      case "unknown":
        result.unknown++;
        line("outcome unknown, will be checked", o.message);
        break;
      case "paused":
        result.paused++;
        line("paused [token]", o.message);
        break;
      case "lease_lost":
        break;
    }
  }

  /**
   * Shutdown: claim nothing more, let attempts already sent finish (up to
   * the grace bound), and hand back what was claimed but never sent. An
   * attempt still running after the bound keeps its lease and is reconciled
   * by whichever process finds it expired.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.claims]);
    const grace = this.deps.config.publishing.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, grace))),
    ]);
    clearTimeout(timer);
    const handedBack = await releaseUnstarted(this.deps, [...this.unstarted.values()]);
    this.unstarted.clear();
    if (handedBack) this.deps.log.info({ handedBack }, "Publishing stopped; unsent posts handed back");
  }
}

const runners = new WeakMap<Deps, PublishRunner>();

export function publishRunner(deps: Deps): PublishRunner {
  let r = runners.get(deps);
  if (!r) runners.set(deps, (r = new PublishRunner(deps)));
  return r;
}

/** For server/index.ts stop(): no-op when this process never published. */
export async function stopPublishing(deps: Deps): Promise<void> {
  await runners.get(deps)?.stop();
}
