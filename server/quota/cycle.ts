// A subscription's cycles: the first starts at subscription_start and each
// lasts config.cycle.days, back to back, for as long as the subscription is
// active. Pure date arithmetic; nothing here reads the clock itself.
import type { Config } from "../config.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface Cycle {
  start: Date;
  end: Date;
  /** 0 for the first cycle after subscription_start. */
  index: number;
}

export function cycleLengthMs(config: Pick<Config, "cycle">): number {
  return config.cycle.days * DAY_MS;
}

/** The cycle containing `now` (the first one if `now` is before subscription_start). */
export function cycleAt(subscriptionStart: Date, now: Date, lengthMs: number): Cycle {
  const elapsed = now.getTime() - subscriptionStart.getTime();
  const index = elapsed <= 0 ? 0 : Math.floor(elapsed / lengthMs);
  const start = new Date(subscriptionStart.getTime() + index * lengthMs);
  return { start, end: new Date(start.getTime() + lengthMs), index };
}

/**
 * The user's current cycle, or null without an active subscription.
 * `config` only supplies the cycle length (CYCLE_DAYS).
 */
export function currentCycle(
  user: { subscriptionActive: boolean; subscriptionStart: Date | null },
  now: Date,
  config: Pick<Config, "cycle">,
): Cycle | null {
  if (!user.subscriptionActive || !user.subscriptionStart) return null;
  return cycleAt(user.subscriptionStart, now, cycleLengthMs(config));
}
