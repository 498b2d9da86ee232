// LinkedIn Pages in the sandbox: the organizations a member administers
// (set through /_control/linkedin-pages), organizationAcls and organizations
// lookups, and the rule that posting or listing as a Page needs the
// organization scope and an approved ADMINISTRATOR role.
import type { Request, Router } from "express";
import { handle, linkedinFail, params } from "./kit.ts";
import type { SandboxState, Token } from "./state.ts";

/** May this token act as `author` (an organization URN) with `scope`? */
export function actsForOrganization(s: SandboxState, t: Token, author: unknown, scope: "w_organization_social" | "r_organization_social"): boolean {
  if (typeof author !== "string" || !author.startsWith("urn:li:organization:")) return false;
  const id = author.slice("urn:li:organization:".length);
  return t.scopes.includes(scope) && (s.linkedinPages.get(t.user) ?? []).some((p) => p.id === id);
}

export function linkedinOrgRoutes(s: SandboxState, r: Router, api: string, token: (req: Request) => Token, needVersion: (req: Request) => void, urn: (t: Token) => string): void {
  r.get(`${api}/rest/organizationAcls`, handle(s, "linkedin.organizationAcls", (req) => {
    const t = token(req);
    needVersion(req);
    if (params(req).q !== "roleAssignee") throw linkedinFail(400, "Unsupported finder");
    if (!t.scopes.includes("w_organization_social") && !t.scopes.includes("r_organization_social")) {
      throw linkedinFail(403, "Not enough permissions to access: organizationAcls.FINDER-roleAssignee", 100);
    }
    const elements = (s.linkedinPages.get(t.user) ?? []).map((p) => ({
      roleAssignee: urn(t),
      role: "ADMINISTRATOR",
      state: "APPROVED",
      organization: `urn:li:organization:${p.id}`,
    }));
    return { json: { elements, paging: { start: 0, count: elements.length, total: elements.length } } };
  }));

  r.get(`${api}/rest/organizations/:id`, handle(s, "linkedin.organizations.get", (req) => {
    token(req);
    needVersion(req);
    const page = [...s.linkedinPages.values()].flat().find((p) => p.id === req.params.id);
    if (!page) throw linkedinFail(404, "Organization not found");
    return { json: { id: Number(page.id), localizedName: page.name, vanityName: page.name.toLowerCase().replace(/[^a-z0-9]+/g, "-") } };
  }));
}
