// One passport strategy per platform, as the design names them, configured
// entirely from the platform adapter's OAuth options (URLs, scopes, PKCE,
// client auth). Identity is not fetched by the strategies (skipUserProfile):
// the adapter's shapeConnection is the one place that reads it — so
// LinkedIn's retired /v2/me, which passport-linkedin-oauth2 would call, is
// never called; OpenID userinfo is read by the LinkedIn adapter instead.
import { Strategy as TwitterStrategy } from "@superfaceai/passport-twitter-oauth2";
import { Passport } from "passport";
import { Strategy as FacebookStrategy } from "passport-facebook";
import { Strategy as GoogleStrategy } from "passport-google-oauth20";
import { Strategy as LinkedInStrategy } from "passport-linkedin-oauth2";
import type { Platform } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { PgStateStore } from "./state-store.ts";
import type { OAuthOptions, OAuthTokens } from "../platforms/types.ts";

/** What a strategy hands to the callback route: the token response, normalised. */
export interface StrategyResult {
  tokens: OAuthTokens;
}

type Verify = (accessToken: string, refreshToken: string, params: Record<string, unknown>, profile: unknown, done: (err: unknown, user?: StrategyResult) => void) => void;
type StrategyFactory = (options: Record<string, unknown>, verify: Verify) => any;

// The passport package for each platform (Facebook Login serves Instagram too).
const STRATEGIES: Record<Platform, StrategyFactory> = {
  facebook: (o, v) => new FacebookStrategy(o as never, v as never),
  instagram: (o, v) => new FacebookStrategy(o as never, v as never),
  linkedin: (o, v) => new LinkedInStrategy(o as never, v as never),
  x: (o, v) => new TwitterStrategy({ ...o, clientType: "confidential" } as never, v as never),
  youtube: (o, v) => new GoogleStrategy(o as never, v as never),
};

export const strategyName = (platform: Platform) => `connect-${platform}`;

function toTokens(oauth: OAuthOptions, accessToken: string, refreshToken: string, params: Record<string, unknown>): OAuthTokens {
  const num = (v: unknown) => (v === undefined || v === null || v === "" ? undefined : Number(v));
  const scope = typeof params.scope === "string" ? params.scope.split(/[ ,]+/).filter(Boolean) : undefined;
  return {
    accessToken,
    refreshToken: refreshToken || undefined,
    expiresIn: num(params.expires_in),
    refreshTokenExpiresIn: num(params.refresh_token_expires_in),
    scope: scope ?? oauth.scope,
  };
}

/** A passport instance of its own (never the global one) holding the enabled platforms' strategies. */
export function createConnectPassport(deps: Deps): InstanceType<typeof Passport> {
  const passport = new Passport();
  for (const adapter of Object.values(deps.platforms)) {
    if (!adapter.enabled) continue;
    const oauth = adapter.oauth();
    const strategy = STRATEGIES[adapter.platform](
      {
        clientID: oauth.clientID,
        clientSecret: oauth.clientSecret,
        callbackURL: oauth.callbackURL,
        authorizationURL: oauth.authorizationURL,
        tokenURL: oauth.tokenURL,
        scope: oauth.scope,
        scopeSeparator: oauth.scopeSeparator,
        // State on every flow, PKCE S256 where the platform takes it; both kept
        // in PostgreSQL bound to the session, the user and the platform, so a
        // state issued for one platform is not good on another platform's
        // callback (mix-up defence) and is used up atomically.
        store: new PgStateStore(deps, adapter.platform),
        pkce: oauth.pkce,
        skipUserProfile: true,
      },
      (accessToken, refreshToken, params, _profile, done) =>
        done(null, { tokens: toTokens(oauth, accessToken, refreshToken, params) }),
    );
    // Extra authorize parameters come from the adapter (Google: access_type=offline,
    // prompt=consent); force_reauth asks the platform for the consent screen again.
    const base = strategy.authorizationParams.bind(strategy);
    strategy.authorizationParams = (options: { forceReauth?: boolean }) => ({
      ...base(options),
      ...oauth.authorizationParams,
      ...(options.forceReauth ? { prompt: "consent" } : {}),
    });
    passport.use(strategyName(adapter.platform), strategy);
  }
  return passport;
}
