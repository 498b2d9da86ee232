// Where each platform lives: the real hosts in live mode, the sandbox's
// look-alike paths in sandbox mode. Adapters only ever read these URLs, so the
// same code runs against the sandbox, in tests and in production.
import type { Platform } from "../../shared/schema.ts";

export interface PlatformUrls {
  /** The browser-facing consent page. */
  authorize: string;
  /** The OAuth token endpoint (authorization code, refresh, Facebook's fb_exchange_token). */
  token: string;
  /** API base: Graph with its version, api.linkedin.com, api.x.com, www.googleapis.com. */
  api: string;
  /** Token revocation, where the platform has one. */
  revoke?: string;
  /** Google's tokeninfo. */
  tokeninfo?: string;
}

export interface PlatformCredentials {
  clientId: string;
  clientSecret: string;
}

export interface ApiVersions {
  /** Graph API version path segment, e.g. "v21.0". */
  graph: string;
  /** LinkedIn-Version header, YYYYMM, when the operator pins one; unset: computed from the date. */
  linkedin?: string;
}

export function liveUrls(v: ApiVersions): Record<Platform, PlatformUrls> {
  const graph = `https://graph.facebook.com/${v.graph}`;
  const meta: PlatformUrls = {
    authorize: `https://www.facebook.com/${v.graph}/dialog/oauth`,
    token: `${graph}/oauth/access_token`,
    api: graph,
  };
  return {
    facebook: meta,
    // Instagram professional accounts are reached through Facebook Login and the Graph API.
    instagram: meta,
    linkedin: {
      authorize: "https://www.linkedin.com/oauth/v2/authorization",
      token: "https://www.linkedin.com/oauth/v2/accessToken",
      api: "https://api.linkedin.com",
      revoke: "https://www.linkedin.com/oauth/v2/revoke",
    },
    x: {
      authorize: "https://x.com/i/oauth2/authorize",
      token: "https://api.x.com/2/oauth2/token",
      api: "https://api.x.com",
      revoke: "https://api.x.com/2/oauth2/revoke",
    },
    youtube: {
      authorize: "https://accounts.google.com/o/oauth2/v2/auth",
      token: "https://oauth2.googleapis.com/token",
      api: "https://www.googleapis.com",
      revoke: "https://oauth2.googleapis.com/revoke",
      tokeninfo: "https://oauth2.googleapis.com/tokeninfo",
    },
  };
}

/** The sandbox serves every platform under one base, at paths shaped like the real hosts'. */
export function sandboxUrls(base: string, v: ApiVersions): Record<Platform, PlatformUrls> {
  const b = base.replace(/\/$/, "");
  const graph = `${b}/graph/${v.graph}`;
  const meta: PlatformUrls = {
    authorize: `${b}/facebook/${v.graph}/dialog/oauth`,
    token: `${graph}/oauth/access_token`,
    api: graph,
  };
  return {
    facebook: meta,
    instagram: meta,
    linkedin: {
      authorize: `${b}/linkedin/oauth/v2/authorization`,
      token: `${b}/linkedin/oauth/v2/accessToken`,
      api: `${b}/linkedin-api`,
      revoke: `${b}/linkedin/oauth/v2/revoke`,
    },
    x: {
      authorize: `${b}/x/i/oauth2/authorize`,
      token: `${b}/x-api/2/oauth2/token`,
      api: `${b}/x-api`,
      revoke: `${b}/x-api/2/oauth2/revoke`,
    },
    youtube: {
      authorize: `${b}/google/o/oauth2/v2/auth`,
      token: `${b}/google-oauth2/token`,
      api: `${b}/googleapis`,
      revoke: `${b}/google-oauth2/revoke`,
      tokeninfo: `${b}/google-oauth2/tokeninfo`,
    },
  };
}

/**
 * Fixed client ids/secrets the sandbox registers. They are not secrets: the
 * sandbox is a fake, and production refuses sandbox mode unless told otherwise.
 * Facebook and Instagram share one Meta app, as in live mode by default.
 */
export const SANDBOX_CREDENTIALS: Record<Platform, PlatformCredentials> = {
  facebook: { clientId: "sandbox-meta-app", clientSecret: "sandbox-meta-secret" },
  instagram: { clientId: "sandbox-meta-app", clientSecret: "sandbox-meta-secret" },
  linkedin: { clientId: "sandbox-linkedin-client", clientSecret: "sandbox-linkedin-secret" },
  x: { clientId: "sandbox-x-client", clientSecret: "sandbox-x-secret" },
  youtube: { clientId: "sandbox-google-client.apps.googleusercontent.com", clientSecret: "sandbox-google-secret" },
};

/** What to set to enable each platform live; used in the "disabled" reason. */
export const CREDENTIAL_VARIABLES: Record<Platform, string> = {
  facebook: "FACEBOOK_APP_ID and FACEBOOK_APP_SECRET",
  instagram: "FACEBOOK_APP_ID and FACEBOOK_APP_SECRET (or INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET)",
  linkedin: "LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET",
  x: "X_CLIENT_ID and X_CLIENT_SECRET (or TWITTER_CONSUMER_KEY and TWITTER_CONSUMER_SECRET)",
  youtube: "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
};
