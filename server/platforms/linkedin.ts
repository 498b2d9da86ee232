// LinkedIn members: OpenID Connect identity (sub → person URN), posts through
// the versioned /rest/posts API with reserved characters escaped.
import { credentialsOf, exchangeCodeWith, formatProblem, inSeconds, oauthOptions, singleMediaProblem, tokenCall, type AdapterContext, type OAuthSpec } from "./base.ts";
import { classifyCommon, ContentRejectedError, nextMidnight, PlatformError, PlatformHttpError } from "./errors.ts";
import { LINKEDIN_MAX, linkedinEscape, linkedinUnescape } from "./text.ts";
import { linkedinVersion } from "./linkedin-version.ts";
import { uploadLinkedinMedia } from "./linkedin-media.ts";
import { administeredPages, ORGANIZATION_SCOPES } from "./linkedin-pages.ts";
import { chooseFrom } from "./graph.ts";
import type { ConnectionCredentials, ContentProblem, ErrorClassification, NewConnection, PlatformAdapter, PostInput } from "./types.ts";

const SPEC: OAuthSpec = {
  // r_liteprofile was retired in 2023: identity comes from OpenID userinfo.
  scope: ["openid", "profile", "email", "w_member_social"],
  scopeSeparator: " ",
  pkce: false,
  clientAuth: "body",
};
const AUTH_CODES: Record<number, string> = { 65600: "token_invalid", 65601: "token_revoked", 65602: "token_expired" };
/** The live post's URN in LinkedIn's 422 duplicate answer. */
const DUPLICATE_OF = /duplicate of (urn:li:(?:share|ugcPost):\d+)/i;

export function linkedinAdapter(ctx: AdapterContext): PlatformAdapter {
  const now = () => ctx.clock.now();
  const pagesOn = ctx.features?.linkedinPages === true;
  // LinkedIn Pages: the organization scopes only when the app has the Community Management API product.
  const spec: OAuthSpec = pagesOn ? { ...SPEC, scope: [...SPEC.scope, ...ORGANIZATION_SCOPES] } : SPEC;
  const urnOf = (conn: ConnectionCredentials) => String(conn.metadata.personUrn ?? `urn:li:person:${conn.platformUserId}`);
  /** Who posts: the chosen Page (organization URN) or the member. */
  const authorOf = (conn: ConnectionCredentials) => String(conn.metadata.authorUrn ?? urnOf(conn));
  const restHeaders = () => ({ "LinkedIn-Version": linkedinVersion(ctx.versions.linkedin, now()), "X-Restli-Protocol-Version": "2.0.0" });

  const checkContent = (post: PostInput): ContentProblem[] => {
    const problems: ContentProblem[] = [];
    const format = formatProblem("linkedin", post, { image: ["jpeg", "png", "gif"], video: ["mp4"] });
    if (format) problems.push(format);
    const several = singleMediaProblem("linkedin", "LinkedIn", post);
    if (several) problems.push(several);
    if (!post.content.trim()) problems.push({ code: "linkedin_empty", field: "content", message: "A LinkedIn post needs text" });
    // The limit applies to what is sent, escapes included.
    const length = [...linkedinEscape(post.content)].length;
    if (length > LINKEDIN_MAX) {
      problems.push({ code: "linkedin_too_long", field: "content", message: `LinkedIn posts are limited to ${LINKEDIN_MAX} characters (special characters count twice)`, limit: LINKEDIN_MAX, actual: length });
    }
    return problems;
  };

  const classifyError = (err: unknown): ErrorClassification => {
    const at = now();
    if (err instanceof PlatformHttpError && err.endpoint !== "refresh") {
      const body = err.body as any;
      const base = { status: err.status, message: err.message };
      if (err.status === 401) return { ...base, kind: "auth_revoked", code: AUTH_CODES[Number(body?.serviceErrorCode)] ?? "unauthorized" };
      // The member author finder needs r_member_social, which ordinary apps never get: not a revoked
      // token, and a reconnect cannot fix it (it used to loop users through reconnects).
      if (err.status === 403 && err.endpoint === "list_recent") return { ...base, kind: "permanent", code: "listing_not_permitted" };
      // A retired (or not yet released) LinkedIn-Version: every /rest call of this app fails, an operator problem.
      if (err.status === 426) {
        const version = linkedinVersion(ctx.versions.linkedin, at);
        const why = ctx.versions.linkedin ? `LINKEDIN_API_VERSION=${version} is not an active LinkedIn API version: unset it (then it follows the date) or set a current YYYYMM` : `LinkedIn refuses API version ${version}`;
        return { ...base, kind: "transient", code: "version_retired", message: why, operator: true };
      }
      if (err.status === 403 && Number(body?.serviceErrorCode) === 100) return { ...base, kind: "auth_revoked", code: "permission_missing" };
      // "Content is a duplicate of urn:li:share:…": that post is live — ours, when an earlier answer was lost.
      const duplicateOf = err.status === 422 ? DUPLICATE_OF.exec(String(body?.message ?? ""))?.[1] : undefined;
      if (duplicateOf) return { ...base, kind: "permanent", code: "duplicate", duplicate: true, duplicateOf };
      if (err.status === 429) {
        // Daily application and member limits reset at midnight UTC when no Retry-After is given.
        const ra = err.headers.get("retry-after");
        return { ...base, kind: "rate_limited", code: "rate_limited", retryAt: ra ? classifyCommon(err, at).retryAt! : nextMidnight(at, "UTC") };
      }
    }
    return classifyCommon(err, at);
  };

  return {
    platform: "linkedin",
    displayName: "LinkedIn",
    enabled: Boolean(ctx.credentials),
    ...(ctx.disabledReason ? { disabledReason: ctx.disabledReason } : {}),
    oauth: () => oauthOptions(ctx, spec),
    exchangeCode: exchangeCodeWith(ctx, spec),

    async shapeConnection(tokens, shape) {
      const me = await ctx.http.request("userinfo", `${ctx.urls.api}/v2/userinfo`, { bearer: tokens.accessToken });
      const sub = String(me.body.sub);
      const at = now();
      const member: NewConnection = {
        platformUserId: sub,
        platformUsername: me.body.name ?? null,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken ?? null,
        expiresAt: inSeconds(at, tokens.expiresIn),
        refreshTokenExpiresAt: tokens.refreshToken ? inSeconds(at, tokens.refreshTokenExpiresIn) : null,
        scopes: tokens.scope ?? spec.scope,
        metadata: { personUrn: `urn:li:person:${sub}`, ...(me.body.email ? { email: me.body.email } : {}) },
      };
      const pages = pagesOn ? await administeredPages(ctx, tokens.accessToken, restHeaders()) : [];
      if (!pages.length) return { kind: "connection", connection: member };
      // The personal profile or one of the Pages, chosen after consent like Facebook Pages.
      const candidates = [
        { id: "member", name: `${member.platformUsername ?? "LinkedIn member"} (personal profile)`, connection: member },
        ...pages.map((p) => ({
          id: p.id,
          name: p.name,
          connection: { ...member, platformUserId: p.urn, platformUsername: p.name, metadata: { ...member.metadata, authorUrn: p.urn, organizationName: p.name } },
        })),
      ];
      return chooseFrom(ctx, candidates, shape);
    },

    async refresh(conn) {
      if (!conn.refreshToken) {
        throw new PlatformError("linkedin", "reconnect_required", "auth_revoked", "LinkedIn gave no refresh token (only approved partner apps get one): reconnect the account");
      }
      const t = await tokenCall(ctx, spec, "refresh", { grant_type: "refresh_token", refresh_token: conn.refreshToken });
      const at = now();
      return {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken ?? conn.refreshToken,
        expiresAt: inSeconds(at, t.expiresIn),
        // Fixed at the first grant: refreshing does not extend it.
        refreshTokenExpiresAt: inSeconds(at, t.refreshTokenExpiresIn) ?? conn.refreshTokenExpiresAt ?? null,
        ...(t.scope ? { scopes: t.scope } : {}),
      };
    },

    async validate(conn) {
      await ctx.http.request("userinfo", `${ctx.urls.api}/v2/userinfo`, { bearer: conn.accessToken });
      // /v2/userinfo is unversioned: a retired LinkedIn-Version would go unnoticed until a post fails.
      // One versioned call proves the version is served; for a member the finder's 403 (r_member_social
      // is not granted to ordinary apps) is the expected answer — only 426 and 401 mean something here.
      try {
        await ctx.http.request("version_check", `${ctx.urls.api}/rest/posts`, {
          bearer: conn.accessToken,
          headers: { ...restHeaders(), "X-RestLi-Method": "FINDER" },
          query: { q: "author", author: authorOf(conn), count: 1 },
        });
      } catch (err) {
        if (!(err instanceof PlatformHttpError && err.status === 403)) throw err;
      }
      return {};
    },

    async publish(conn, post) {
      const problems = checkContent(post);
      if (problems.length) throw new ContentRejectedError("linkedin", problems);
      // Media through the Images/Videos API first: a post that has media never goes out as text only.
      const media = post.mediaUrl ? await uploadLinkedinMedia(ctx, conn.accessToken, authorOf(conn), restHeaders(), post) : undefined;
      const r = await ctx.http.request("publish", `${ctx.urls.api}/rest/posts`, {
        bearer: conn.accessToken,
        headers: restHeaders(),
        json: {
          author: authorOf(conn),
          commentary: linkedinEscape(post.content.normalize("NFC")),
          visibility: "PUBLIC",
          distribution: { feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: [] },
          ...(media ? { content: { media: { id: media } } } : {}),
          lifecycleState: "PUBLISHED",
          isReshareDisabledByAuthor: false,
        },
      });
      const id = r.headers.get("x-restli-id");
      if (!id) throw new PlatformError("linkedin", "missing_post_id", "outcome_unknown", "LinkedIn accepted the post but returned no id");
      return { platformPostId: id, url: `https://www.linkedin.com/feed/update/${id}/` };
    },

    // A member's posts cannot be listed by ordinary apps (r_member_social is partner-only): a lost
    // answer is settled by re-sending, and LinkedIn's duplicate answer names the live post. A Page's
    // (organization's) posts can be listed by its admins.
    canListPosts: (conn) => authorOf(conn).startsWith("urn:li:organization:"),

    async listRecentPosts(conn, since) {
      const r = await ctx.http.request("list_recent", `${ctx.urls.api}/rest/posts`, {
        bearer: conn.accessToken,
        headers: { ...restHeaders(), "X-RestLi-Method": "FINDER" },
        query: { q: "author", author: authorOf(conn), count: 50, sortBy: "CREATED" },
      });
      return (r.body.elements ?? [])
        .map((p: any) => ({ id: String(p.id), text: linkedinUnescape(String(p.commentary ?? "")), createdAt: new Date(Number(p.createdAt)) }))
        .filter((p: { createdAt: Date }) => p.createdAt >= since);
    },

    async revoke(conn) {
      const c = credentialsOf(ctx);
      await ctx.http.request("revoke", ctx.urls.revoke!, { form: { token: conn.accessToken, client_id: c.clientId, client_secret: c.clientSecret } });
    },

    checkContent,
    classifyError,
  };
}
