// Price ids ↔ plans, only through configuration (STRIPE_PRICE_*; in sandbox
// mode the React client's literal ids).
import { PLAN_NAMES, type PlanName } from "../../shared/schema.ts";
import type { Config } from "../config.ts";

export function planForPrice(config: Pick<Config, "billing">, priceId: string | null | undefined): PlanName | undefined {
  if (!priceId) return undefined;
  return PLAN_NAMES.find((plan) => config.billing.prices[plan] === priceId);
}

/** Higher is more posts: an upgrade applies now, a downgrade at the next renewal. */
export function planRank(plan: PlanName | null | undefined): number {
  return plan ? PLAN_NAMES.indexOf(plan) : -1;
}
