// start(): config → database → migrations → app → jobs → listen; stop() in reverse.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import type pino from "pino";
import { createApp } from "./app.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { EmbeddedFolderBusyError } from "./db/embedded-lock.ts";
import { openDatabase } from "./db/index.ts";
import { runMigrations } from "./db/migrate.ts";
import { systemClock, type Clock, type Deps } from "./deps.ts";
import { allJobs, startJobs } from "./jobs/index.ts";
import { stopPublishing } from "./posts/runner.ts";
import { createLog } from "./log.ts";
import { createMailer } from "./notify/email.ts";
import { createSmsSender } from "./notify/sms.ts";
import { createPlatformAdapters } from "./platforms/registry.ts";
import { TokenVault } from "./connections/vault.ts";

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Overrides config.port; 0 picks a free port (tests). */
  port?: number;
  /** "memory" for a throwaway embedded database (tests). */
  embeddedDir?: string;
  clock?: Clock;
  logDestination?: pino.DestinationStream;
  /** Timers run unless false (tests drive jobs by hand). */
  jobs?: boolean;
}

export interface Running {
  url: string;
  deps: Deps;
  server: Server;
  stop(): Promise<void>;
}

export async function start(options: StartOptions = {}): Promise<Running> {
  // Where a start's time goes, in the "listening" line (ms since the process began): bench and operators read it.
  const phases: Record<string, number> = { modulesLoaded: Math.round(performance.now()) };
  const config: Config = loadConfig(options.env ?? process.env);
  const log = createLog(config.logLevel, options.logDestination);
  const database = await openDatabase({
    url: config.database.url,
    embeddedDir: options.embeddedDir ?? config.database.embeddedDir,
  });
  phases.databaseOpen = Math.round(performance.now());
  await runMigrations(database);
  phases.migrated = Math.round(performance.now());
  const clock = options.clock ?? systemClock;
  const deps: Deps = {
    config,
    database,
    db: database.db,
    log,
    clock,
    mailer: createMailer(config, log),
    sms: createSmsSender(config, log),
    platforms: createPlatformAdapters({ config, clock }),
    vault: new TokenVault(config.tokens),
  };
  for (const adapter of Object.values(deps.platforms)) {
    if (adapter.enabled) log.info({ platform: adapter.platform }, `OAuth configured ${adapter.platform}`);
    else log.warn({ platform: adapter.platform, reason: adapter.disabledReason }, `Platform disabled ${adapter.platform}`);
  }

  const { app, sessions, streams } = createApp(deps);
  const jobs = options.jobs === false ? undefined : startJobs(deps, allJobs(deps));
  const listening = new Promise<Server>((resolve, reject) => {
    const s = createServer(
      {
        // A client that sends its headers or body slowly (or a body shorter than its
        // Content-Length) is cut off with 408 instead of holding a connection for Node's 5 minutes;
        // the check runs every second (Node's default is every 30 s). Responses (SSE) are not bound by it.
        headersTimeout: config.http.headersTimeoutMs,
        requestTimeout: config.http.requestTimeoutMs,
        connectionsCheckingInterval: 1000,
      },
      app,
    );
    // A port in use is start-up's error to report (a clear exit), not an uncaught 'error' event.
    s.once("error", reject);
    s.listen(options.port ?? config.port, () => {
      s.off("error", reject);
      resolve(s);
    });
  });
  const server = await listening.catch(async (err: unknown) => {
    await jobs?.stop();
    await streams.close();
    sessions.close();
    await database.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  phases.listening = Math.round(performance.now());
  log.info({ port, database: database.kind, platforms: config.platforms.mode, startup: phases }, "AgencyIQ listening");

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop claiming and hand back unsent posts before the timers and the database go.
      await stopPublishing(deps);
      await jobs?.stop();
      await streams.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      sessions.close();
      await database.close();
    })());

  return { url: `http://127.0.0.1:${port}`, deps, server, stop };
}

export async function main(): Promise<void> {
  let running: Running;
  try {
    running = await start();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof EmbeddedFolderBusyError) {
      console.error(err.message);
      process.exit(1);
    }
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      console.error(`The port is already in use (EADDRINUSE: ${(err as Error).message}): stop what listens there, or set PORT to another port.`);
      process.exit(1);
    }
    throw err;
  }
  const shutdown = (signal: string) => {
    running.deps.log.info({ signal }, "Shutting down");
    running.stop().then(
      () => process.exit(0),
      (err) => {
        running.deps.log.error({ err }, "Shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
