// API shapes are built here field by field, so a password hash can never leak
// by spreading a row.
import type { User } from "../../shared/schema.ts";

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
