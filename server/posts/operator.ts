// Operator-level failures are not user failures. When a platform refuses
// this app itself — X credits depleted, the app secret wrong or rotated
// (invalid_client), a retired API version — the platform is paused for
// everyone on the shared breaker (platform_health.operator_code): posts wait
// (nothing fails, no quota is given back, no user is e-mailed), the
// platform-health endpoint and /metrics say why, the operator is alerted
// once, and the breaker's probe resumes publishing when a call succeeds.
import type { Platform } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import type { ErrorClassification } from "../platforms/types.ts";
import { complete, type AttemptLog } from "./complete.ts";
import { recordOperatorProblem } from "./health.ts";
import type { ClaimedPost } from "./lease.ts";

/** Opens the platform's breaker for everyone and alerts the operator the first time. */
export async function pauseForOperator(deps: Deps, platform: Platform, e: ErrorClassification): Promise<Date> {
  const { isNew, retryAt } = await recordOperatorProblem(deps, platform, e);
  if (isNew) await alertOperator(deps, platform, e);
  return retryAt;
}

async function alertOperator(deps: Deps, platform: Platform, e: ErrorClassification): Promise<void> {
  const name = deps.platforms[platform].displayName;
  const text =
    `${name} refuses every call of this app (${e.code}): ${e.message}\n\n` +
    `Publishing to ${name} is paused for every user; posts wait and nothing fails. ` +
    `It resumes by itself once a probe call succeeds (every ${Math.round(deps.config.publishing.breakerCooldownMs / 1000)} s).\n` +
    `What to do: ${remedy(e.code)}`;
  deps.log.error({ platform, code: e.code }, `Platform paused for everyone: ${name} ${e.code}`);
  if (!deps.config.opsEmail) return;
  try {
    await deps.mailer.send({ to: deps.config.opsEmail, subject: `AgencyIQ: ${name} publishing paused (${e.code})`, text });
  } catch (err) {
    deps.log.error({ platform, err: err instanceof Error ? err.message : String(err) }, "Operator alert e-mail failed");
  }
}

function remedy(code: string): string {
  if (code === "credits_depleted") return "add credits to the X developer account (console.x.com → Billing).";
  if (code === "invalid_client") return "check the platform's client id and secret in the environment (a rotated secret must be updated here).";
  if (code === "version_retired") return "unset LINKEDIN_API_VERSION (the version is then computed from the date) or set a current YYYYMM.";
  return "see the platform's developer console.";
}

/**
 * The attempt's post waits for the platform to come back: same status as
 * before, next try at the probe time, the attempt given back (the post was
 * not at fault) and its quota kept.
 */
export async function holdForOperator(
  deps: Deps,
  post: ClaimedPost,
  e: ErrorClassification,
  waiting: "approved" | "unknown",
  log: AttemptLog,
): Promise<{ kind: "retry"; code: string; message: string; at: Date } | { kind: "lease_lost" }> {
  const at = await pauseForOperator(deps, post.platform, e);
  const message = `${deps.platforms[post.platform].displayName} is paused for every user by a problem on our side (${e.code}); your post waits and goes out when it resumes`;
  const ok = await complete(deps, post, { status: waiting, nextAttemptAt: at, errorLog: `platform_paused: ${message}`, log, notSent: true });
  return ok ? { kind: "retry", code: e.code, message, at } : { kind: "lease_lost" };
}
