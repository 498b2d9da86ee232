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
  /** X processes a finalized video this long (real time or sandbox clock, whichever passes first)… */
  xVideoProcessingMs: number;
  /** …and ends it failed with this message when set (X's processing_info.error.message), null: succeeded. */
  xVideoProcessingError: string | null;
  /**
   * A platform on a machine of its own. Off (the default), the sandbox is like a real
   * platform: a call it reads only after its caller gave up is carried out all the same,
   * late, and latency delays the work. On, each call is carried out when it is read, or
   * not at all if its caller had already given up by then, and latency delays only the
   * answer. The multi-process tests turn it on: on a loaded 2-core machine the sandbox,
   * short of CPU beside three runners, read some requests 6 s and more after their callers'
   * timeouts, longer than those tests' reconcile windows; late landings are the
   * late-landing test's subject, not theirs (README "Publishing").
   */
  carryOutOnArrival: boolean;
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
  xVideoProcessingMs: 5000,
  xVideoProcessingError: null,
  carryOutOnArrival: false,
};
