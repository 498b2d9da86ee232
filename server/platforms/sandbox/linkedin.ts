// LinkedIn's OpenID userinfo and versioned Posts API, with "little text"
// parsing: an unescaped reserved character cuts the visible text.
import express, { type Request, type Router } from "express";
import { bearer, Fail, handle, linkedinFail, params } from "./kit.ts";
import { ids, type SandboxState, type Token } from "./state.ts";
import { monthVersion } from "../linkedin-version.ts";
import { checkPostMedia, linkedinMediaRoutes } from "./linkedin-media.ts";
import { actsForOrganization, linkedinOrgRoutes } from "./linkedin-orgs.ts";

const RESERVED = new Set([..."|{}@[]()<>#*_~"]);

/** What readers see: escapes resolved, text cut at the first unescaped reserved character. */
export function renderLittleText(commentary: string): string {
  let out = "";
  for (let i = 0; i < commentary.length; i++) {
    const c = commentary[i]!;
    if (c === "\\" && i + 1 < commentary.length) out += commentary[++i];
    else if (RESERVED.has(c)) break;
    else out += c;
  }
  return out;
}

export function linkedinRoutes(s: SandboxState): Router {
  const r = express.Router();
  const api = "/linkedin-api";

  function token(req: Request): Token {
    const st = s.tokenState("linkedin", bearer(req));
    if (st.problem === "missing") throw linkedinFail(401, "Empty oauth2 access token", 65600);
    if (st.problem === "invalid") throw linkedinFail(401, "Invalid access token", 65600);
    if (st.problem === "revoked") throw linkedinFail(401, "The token used in the request has been revoked by the user", 65601);
    if (st.problem === "expired") throw linkedinFail(401, "The token used in the request has expired", 65602);
    const until = s.rateLimitedUntil("linkedin", st.token!.user);
    if (until !== undefined) throw linkedinFail(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.");
    return st.token!;
  }
  const urn = (t: Token) => `urn:li:person:${ids.linkedinSub(t.user)}`;
  const needVersion = (req: Request) => {
    if (!/^\d{6}$/.test(req.get("linkedin-version") ?? "")) {
      throw new Fail({ status: 400, json: { status: 400, code: "VERSION_MISSING", message: "A version must be present. Please specify a version by adding the LinkedIn-Version header." } });
    }
    // Each monthly version is served for about a year (by the sandbox clock); later or unreleased ones answer 426.
    const version = req.get("linkedin-version")!;
    const now = new Date(s.now());
    const oldest = monthVersion(now, s.settings.linkedinVersionLifetimeMonths - 1);
    if (version < oldest || version > monthVersion(now, 0)) {
      throw new Fail({ status: 426, json: { status: 426, code: "NONEXISTENT_VERSION", message: `Requested version ${version} is not active` } });
    }
  };

  r.get(`${api}/v2/userinfo`, handle(s, "linkedin.userinfo", (req) => {
    const t = token(req);
    if (!t.scopes.includes("openid")) throw linkedinFail(403, "Not enough permissions to access: userinfo.GET.NO_VERSION", 100);
    return {
      json: {
        sub: ids.linkedinSub(t.user),
        email_verified: true,
        name: `${t.user} Sandbox`,
        locale: { country: "AU", language: "en" },
        given_name: t.user,
        family_name: "Sandbox",
        email: `${t.user}@sandbox.example`,
        picture: "https://media.licdn.com/sandbox.png",
      },
    };
  }));

  r.post(`${api}/rest/posts`, handle(s, "linkedin.posts.create", (req) => {
    const t = token(req);
    needVersion(req);
    if (!t.scopes.includes("w_member_social")) throw linkedinFail(403, "Not enough permissions to access: partnerApiPostsExternal.CREATE", 100);
    const b = (req.body ?? {}) as Record<string, any>;
    if (b.author !== urn(t) && !actsForOrganization(s, t, b.author, "w_organization_social")) throw linkedinFail(403, `Unpermitted fields present in REQUEST_BODY: Data Processing Exception while processing fields [/author]`, 100);
    const problems: string[] = [];
    if (typeof b.commentary !== "string") problems.push("/commentary :: field is required");
    else if ([...b.commentary].length > 3000) problems.push("/commentary :: length must be at most 3000");
    if (b.visibility !== "PUBLIC" && b.visibility !== "CONNECTIONS") problems.push("/visibility :: invalid value");
    if (b.lifecycleState !== "PUBLISHED") problems.push("/lifecycleState :: must be PUBLISHED");
    if (!b.distribution || b.distribution.feedDistribution === undefined) problems.push("/distribution :: field is required");
    if (problems.length) throw new Fail({ status: 422, json: { status: 422, message: `ERROR :: ${problems.join("; ")}` } });
    const author = String(b.author);
    const mediaIds = checkPostMedia(s, author, b.content);
    // The same commentary again from the same author is refused, naming the live post (LinkedIn's real answer).
    const since = s.now() - s.settings.linkedinDuplicateWindowMs;
    const twin = s.postsOf("linkedin", author).find((x) => x.text === b.commentary && x.createdAt >= since);
    if (twin) {
      throw new Fail({
        status: 422,
        json: {
          errorDetailType: "com.linkedin.common.error.BadRequest",
          message: `com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of ${twin.id}`,
          errorDetails: { inputErrors: [{ description: "Duplicate post is detected", input: {}, code: "DUPLICATE_POST" }] },
          status: 422,
        },
      });
    }
    const id = `urn:li:share:${s.nextId()}`;
    s.publish({ platform: "linkedin", id, user: t.user, account: author, text: b.commentary, rendered: renderLittleText(b.commentary), createdAt: s.now(), ...(mediaIds ? { mediaIds } : {}) });
    return { status: 201, headers: { "x-restli-id": id, "x-linkedin-id": id } };
  }));

  r.get(`${api}/rest/posts`, handle(s, "linkedin.posts.list", (req) => {
    const t = token(req);
    needVersion(req);
    const p = params(req);
    // An organization's posts can be listed by its admins (r_organization_social); a member's only
    // with r_member_social, which LinkedIn grants to partner apps alone.
    const asPage = actsForOrganization(s, t, p.author, "r_organization_social");
    const asMember = s.settings.linkedinMemberFinder && p.author === urn(t);
    if (p.q !== "author" || (!asPage && !asMember)) {
      throw new Fail({
        status: 403,
        json: { status: 403, serviceErrorCode: 100, code: "ACCESS_DENIED", message: `Not enough permissions to access: partnerApiPostsExternal.FINDER-author.${req.get("linkedin-version") ?? ""}` },
      });
    }
    const count = Math.min(Number(p.count ?? 10) || 10, 100);
    const elements = s.postsOf("linkedin", asPage ? String(p.author) : urn(t))
      .slice()
      .reverse() // among equal times, the later one first
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, count)
      .map((x) => ({ id: x.id, author: x.account, commentary: x.text, createdAt: x.createdAt, publishedAt: x.createdAt, lastModifiedAt: x.createdAt, lifecycleState: "PUBLISHED", visibility: "PUBLIC" }));
    return { json: { elements, paging: { start: 0, count, total: elements.length } } };
  }));
  linkedinMediaRoutes(s, r, api, token, needVersion, urn);
  linkedinOrgRoutes(s, r, api, token, needVersion, urn);
  return r;
}
