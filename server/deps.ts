// Everything with an outside effect (clock, database, mail, SMS, HTTP to
// platforms) is built once here and passed in, so tests can fix time and
// watch side effects.
import type { Config } from "./config.ts";
import type { Database, Db } from "./db/index.ts";
import type { Log } from "./log.ts";
import type { Mailer } from "./notify/email.ts";
import type { SmsSender } from "./notify/sms.ts";
import type { PlatformAdapters } from "./platforms/registry.ts";
import type { TokenVault } from "./connections/vault.ts";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface Deps {
  config: Config;
  database: Database;
  db: Db;
  log: Log;
  clock: Clock;
  mailer: Mailer;
  sms: SmsSender;
  /** One adapter per platform (sandbox or live URLs from config). */
  platforms: PlatformAdapters;
  /** The only holder of the token encryption keys. */
  vault: TokenVault;
}
