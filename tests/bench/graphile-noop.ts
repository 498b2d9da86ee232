// The yardstick for the publishing benchmark: graphile-worker (0.17, the
// newest release that runs on Node 20) processing N no-op jobs on the same
// PostgreSQL, with the same worker concurrency our runner uses and a pool of
// 10 connections, like our server's.
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import pg from "pg";

export interface GraphileResult {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

export async function benchGraphileNoop(connectionString: string, jobs: number, concurrency: number): Promise<GraphileResult> {
  const utils = await makeWorkerUtils({ connectionString });
  await utils.migrate();
  for (let i = 0; i < jobs; i += 1000) {
    await utils.addJobs(Array.from({ length: Math.min(1000, jobs - i) }, () => ({ identifier: "noop", payload: {} })));
  }
  await utils.release();

  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const started = performance.now();
  // Our own pool, ended below: the database is dropped right after, and an idle client
  // left behind would die with an unhandled error.
  const pgPool = new pg.Pool({ connectionString, max: 10 });
  pgPool.on("error", () => {});
  pgPool.on("connect", (client) => client.on("error", () => {}));
  const runner = await run({
    pgPool,
    concurrency,
    noHandleSignals: true,
    pollInterval: 100,
    // Silent: its default logger writes a line per job, which would slow the yardstick down.
    logger: new Logger(() => () => {}),
    taskList: {
      noop: async () => {
        done += 1;
        if (done === jobs) finished();
      },
    },
  });
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  await pgPool.end();

  // Nothing left behind: every job ran and was removed.
  const c = new pg.Client({ connectionString });
  await c.connect();
  const left = await c.query("select count(*)::int as n from graphile_worker.jobs");
  await c.end();
  if (left.rows[0].n !== 0) throw new Error(`graphile-worker left ${left.rows[0].n} jobs`);
  return { jobs, seconds, jobsPerSecond: jobs / seconds };
}
