// API shapes are built here field by field, so a password hash can never leak
// by spreading a row.
import { z } from "zod";
import { PLAN_NAMES, type User } from "../../shared/schema.ts";

/** The contract of formatUser / formatSessionUser (OpenAPI, server/http/contract.ts). */
export const userSchema = z.strictObject({
  id: z.number().int(),
  email: z.string(),
  phone: z.string(),
  phoneVerified: z.boolean(),
  subscriptionPlan: z.enum(PLAN_NAMES).nullable(),
  subscriptionActive: z.boolean(),
  remainingPosts: z.number().int(),
  totalPosts: z.number().int(),
});
export const sessionUserSchema = userSchema.extend({ hasCompletedSetup: z.boolean() });

export function formatUser(u: User) {
  return {
    id: u.id,
    email: u.email,
    phone: u.phone,
    // False until the number is proven by a code: an unverified number is lost to a later verified claim.
    phoneVerified: u.phoneVerifiedAt !== null,
    subscriptionPlan: u.subscriptionPlan,
    subscriptionActive: u.subscriptionActive,
    remainingPosts: u.remainingPosts,
    totalPosts: u.totalPosts,
  };
}

export function formatSessionUser(u: User) {
  return { ...formatUser(u), hasCompletedSetup: u.hasBrandSetup && u.subscriptionActive };
}
