// The five adapters, one per platform. A missing platform fails to compile.
import { PLATFORMS, type Platform } from "../../shared/schema.ts";
import type { Config } from "../config.ts";
import type { Clock } from "../deps.ts";
import type { AdapterContext } from "./base.ts";
import { facebookAdapter } from "./facebook.ts";
import { PlatformHttp } from "./http.ts";
import { instagramAdapter } from "./instagram.ts";
import { linkedinAdapter } from "./linkedin.ts";
import type { PlatformAdapter } from "./types.ts";
import { xAdapter } from "./x.ts";
import { youtubeAdapter } from "./youtube.ts";

const FACTORIES: Record<Platform, (ctx: AdapterContext) => PlatformAdapter> = {
  facebook: facebookAdapter,
  instagram: instagramAdapter,
  linkedin: linkedinAdapter,
  x: xAdapter,
  youtube: youtubeAdapter,
};

export type PlatformAdapters = Record<Platform, PlatformAdapter>;

export function createPlatformAdapters(
  deps: { config: Config; clock: Clock },
  options: { timeoutMs?: number } = {},
): PlatformAdapters {
  const p = deps.config.platforms;
  const timeoutMs = options.timeoutMs ?? p.timeoutMs;
  return Object.fromEntries(
    PLATFORMS.map((platform) => [
      platform,
      FACTORIES[platform]({
        platform,
        urls: p.urls[platform],
        credentials: p.credentials[platform],
        disabledReason: p.disabled[platform],
        clock: deps.clock,
        http: new PlatformHttp(platform, timeoutMs),
        publicUrl: deps.config.publicUrl,
        versions: p.versions,
        media: deps.config.media,
        features: { linkedinPages: deps.config.platforms.linkedinPages },
      }),
    ]),
  ) as PlatformAdapters;
}

/** Route names → Platform; "twitter" is the blueprint's name for X. */
export function parsePlatform(name: string): Platform | null {
  const n = name.trim().toLowerCase();
  if (n === "twitter") return "x";
  return (PLATFORMS as readonly string[]).includes(n) ? (n as Platform) : null;
}
