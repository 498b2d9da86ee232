// LinkedIn Pages (organizations): small businesses post as their company
// Page. With LINKEDIN_PAGES on (the app has the Community Management API
// product), we also ask for w_organization_social and r_organization_social;
// after consent the Pages the member administers come from
// GET /rest/organizationAcls?q=roleAssignee, and the member chooses the
// personal profile or a Page, as with Facebook Pages. An organization's
// posts can be listed (q=author with its URN), so their reconciliation lists.
// https://learn.microsoft.com/linkedin/marketing/community-management/organizations/organization-access-control-by-role
import type { AdapterContext } from "./base.ts";
import { PlatformHttpError } from "./errors.ts";

export const ORGANIZATION_SCOPES = ["w_organization_social", "r_organization_social"];

export interface LinkedinPage {
  urn: string;
  id: string;
  name: string;
}

/** The Pages this member administers (approved ADMINISTRATOR roles); none when the app may not ask. */
export async function administeredPages(ctx: AdapterContext, accessToken: string, headers: Record<string, string>): Promise<LinkedinPage[]> {
  let acls;
  try {
    acls = await ctx.http.request("organization_acls", `${ctx.urls.api}/rest/organizationAcls`, {
      bearer: accessToken,
      headers,
      query: { q: "roleAssignee", role: "ADMINISTRATOR", state: "APPROVED" },
    });
  } catch (err) {
    // Scopes not granted (the member declined, or the product is missing): the personal profile only.
    if (err instanceof PlatformHttpError && err.status === 403) return [];
    throw err;
  }
  const urns: string[] = (acls.body?.elements ?? []).map((e: any) => String(e.organization ?? e.organizationTarget ?? "")).filter((u: string) => u.startsWith("urn:li:organization:"));
  const pages: LinkedinPage[] = [];
  for (const urn of [...new Set(urns)]) {
    const id = urn.slice("urn:li:organization:".length);
    const org = await ctx.http.request("organization", `${ctx.urls.api}/rest/organizations/${id}`, { bearer: accessToken, headers });
    pages.push({ urn, id, name: String(org.body?.localizedName ?? `Page ${id}`) });
  }
  return pages;
}
