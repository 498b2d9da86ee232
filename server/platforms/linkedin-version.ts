// The LinkedIn-Version header. Each monthly version (YYYYMM) is served for
// about a year, then every /rest call answers 426 NONEXISTENT_VERSION. A
// pinned version therefore dies silently a year after it was written down:
// unless the operator pins one (LINKEDIN_API_VERSION), the version is the
// month before the current one (UTC) — always released, and always about
// eleven months from retirement.
// https://learn.microsoft.com/linkedin/marketing/versioning

/** YYYYMM of the month `monthsBack` months before `now` (UTC). */
export function monthVersion(now: Date, monthsBack = 1): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsBack, 1));
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

export function linkedinVersion(pinned: string | undefined, now: Date): string {
  return pinned ?? monthVersion(now);
}
