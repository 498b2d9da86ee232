// The sandbox's switches: token lifetimes, limits, and the real platform behaviours
// tests can turn off (PUT /_control/settings).
import type { Family } from "./state.ts";
export interface Settings {
  /** Access-token lifetimes in seconds; tests shorten them to watch expiry. */
  accessTtl: { metaShort: number; metaLong: number; linkedin: number; x: number; google: number };
  linkedinRefreshTtl: number;
  /** LinkedIn gives refresh tokens only to approved partner apps. */
  linkedinRefreshTokens: boolean;
  codeTtl: Record<Family, number>;
  instagramDailyLimit: number;
  xPostsPer15Min: number;
  /** LinkedIn's member author finder (q=author) needs r_member_social, which only partner apps get. */
  linkedinMemberFinder: boolean;
  /** LinkedIn refuses the same commentary from the same author within this window (422, naming the live post). */
  linkedinDuplicateWindowMs: number;
  /** YouTube: uploads from an API project Google has not audited are forced private. */
  youtubeAudited: boolean;
  /** How many monthly LinkedIn-Version values are active (the current month and the ones before it). */
  linkedinVersionLifetimeMonths: number;
  /** X pay-per-use: the app is out of credits, every API call answers 402. */
  xCreditsDepleted: boolean;
  /** X's 24-hour cap on posts per user (answered with x-user-limit-24hour-* headers). */
  xUserPostsPer24Hours: number;
  /** Instagram processes every container: images take this long (real time or sandbox clock, whichever passes first)… */
  igImageProcessingMs: number;
  /** …and Reels minutes. */
  igVideoProcessingMs: number;
  /** A carousel container, once its children are FINISHED. */
  igCarouselProcessingMs: number;
}

export const DEFAULT_SETTINGS: Settings = {
  accessTtl: { metaShort: 7200, metaLong: 60 * 86400, linkedin: 60 * 86400, x: 7200, google: 3599 },
  linkedinRefreshTtl: 365 * 86400,
  linkedinRefreshTokens: true,
  codeTtl: { meta: 600, linkedin: 1800, x: 30, google: 600 },
  instagramDailyLimit: 50,
  xPostsPer15Min: 100,
  linkedinMemberFinder: false,
  linkedinDuplicateWindowMs: 24 * 3600 * 1000,
  youtubeAudited: false,
  linkedinVersionLifetimeMonths: 12,
  xCreditsDepleted: false,
  xUserPostsPer24Hours: 2400,
  igImageProcessingMs: 200,
  igVideoProcessingMs: 120_000,
  igCarouselProcessingMs: 200,
};
