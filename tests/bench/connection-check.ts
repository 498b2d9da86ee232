// Bench: the connection check at scale. For each size, N connections stored
// (generate_series; the tokens of rows that are not due are sealed once and
// reused, since a tick never opens them) of which 1,000 X connections become
// due, each with its own refresh token in a standalone sandbox. Measures
// (a) a tick with nothing due, plus EXPLAIN of the due query, and
// (b) the tick that refreshes the 1,000 due against the sandbox.
import { dueQuery, runConnectionCheck } from "../../server/connections/connection-check.ts";
import { SANDBOX_CREDENTIALS } from "../../server/platforms/endpoints.ts";
import { startSandbox } from "../../server/platforms/sandbox/index.ts";
import { TestClock } from "../support/clock.ts";
import { createTestDatabase } from "../support/database.ts";
import { startTestServer } from "../support/server.ts";

export interface CheckBenchSize {
  stored: number;
  due: number;
  /** Median and worst of 30 ticks with nothing due. */
  idleTickMedianMs: number;
  idleTickMaxMs: number;
  /** EXPLAIN ANALYZE of the due query with nothing due, and with the 1,000 due. */
  explain: string[];
  explainDue: string[];
  usesIndex: boolean;
  refreshTickMs: number;
  refreshed: number;
  /** Refresh requests that reached the sandbox in that tick (must equal `due`). */
  refreshRequests: number;
}

const DUE = 1_000;

export async function benchConnectionCheck(sizes = [1_000, 10_000, 100_000]): Promise<CheckBenchSize[]> {
  const out: CheckBenchSize[] = [];
  for (const stored of sizes) out.push(await benchSize(stored));
  return out;
}

async function benchSize(stored: number): Promise<CheckBenchSize> {
  const clock = new TestClock(new Date());
  const sandbox = await startSandbox({ clock, appUrl: "http://127.0.0.1:1" });
  const database = await createTestDatabase();
  const server = await startTestServer({ clock, database, env: { PLATFORM_SANDBOX_URL: sandbox.url, LOG_LEVEL: "warn" } });
  const { deps } = server;
  const q = (text: string, params?: unknown[]) => deps.database.pool.query(text, params);
  try {
    const now = clock.now();
    // One X connection per user (the active-connection key is user + platform): the check's cost does not depend on the platform.
    const users = stored;
    await q(
      `insert into users (uid, email, password_hash, phone)
       select 'bench' || g, 'bench' || g || '@bench.test', 'not-a-hash', '+6149' || lpad(g::text, 7, '0')
       from generate_series(1, $1::int) g`,
      [users],
    );
    // Not due: sealed once (for user 1) and reused; the tick never opens them.
    const sealed = deps.vault.sealConnection({ userId: 1, platform: "x" }, { accessToken: "bench-access", refreshToken: "bench-refresh" });
    await q(
      `insert into platform_connections (user_id, platform, platform_user_id, access_token, refresh_token, token_key_version,
         expires_at, next_check_at, last_refreshed_at, last_validated_at, connected_at)
       select u.id, 'x', 'bench-' || u.id, $1, $2, $3,
         $4::timestamptz + interval '2 hours', $4::timestamptz + interval '1 hour' + random() * interval '1 day', $4::timestamptz, $4::timestamptz, $4::timestamptz
       from users u`,
      [sealed.accessToken, sealed.refreshToken, sealed.tokenKeyVersion, now.toISOString()],
    );
    await q("vacuum analyze platform_connections");

    // (a) Nothing due.
    await runConnectionCheck(deps);
    const idle: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const r = await runConnectionCheck(deps);
      idle.push(performance.now() - t0);
      if (r.checked !== 0) throw new Error("bench: something was due in the idle tick");
    }
    idle.sort((a, b) => a - b);
    const explain = async () => {
      const { sql, params } = dueQuery(deps, clock.now(), 100).toSQL();
      return (await q(`explain analyze ${sql}`, params as unknown[])).rows.map((r) => r["QUERY PLAN"] as string);
    };
    const plan = await explain();

    // (b) 1,000 X connections due, each with its own live refresh token at the sandbox.
    const { rows: dueRows } = await q(`select id, user_id from platform_connections where platform = 'x' order by id limit $1`, [DUE]);
    const ids: number[] = [];
    const access: string[] = [];
    const refresh: string[] = [];
    for (const r of dueRows) {
      const user = `bench-${r.user_id}`;
      const rt = sandbox.state.issueRefresh({ family: "x", user, clientId: SANDBOX_CREDENTIALS.x.clientId, scopes: ["tweet.read", "tweet.write", "users.read", "offline.access"], expiresAt: null }, "");
      const s = deps.vault.sealConnection({ userId: r.user_id, platform: "x" }, { accessToken: `expired-${r.id}`, refreshToken: rt.value });
      ids.push(r.id);
      access.push(s.accessToken);
      refresh.push(s.refreshToken!);
    }
    await q(
      `update platform_connections c set access_token = v.a, refresh_token = v.r,
         expires_at = $4::timestamptz - interval '1 minute', next_check_at = $4::timestamptz - interval '1 minute'
       from unnest($1::int[], $2::text[], $3::text[]) v(id, a, r) where c.id = v.id`,
      [ids, access, refresh, clock.now().toISOString()],
    );
    await q("analyze platform_connections");
    const planDue = await explain();
    const before = sandbox.state.calls.filter((c) => c.endpoint === "x.token").length;
    const t0 = performance.now();
    const result = await runConnectionCheck(deps);
    const refreshTickMs = performance.now() - t0;
    const refreshRequests = sandbox.state.calls.filter((c) => c.endpoint === "x.token").length - before;
    return {
      stored,
      due: dueRows.length,
      idleTickMedianMs: idle[Math.floor(idle.length / 2)]!,
      idleTickMaxMs: idle.at(-1)!,
      explain: plan,
      explainDue: planDue,
      usesIndex: [...plan, ...planDue].every((l) => !/Seq Scan/.test(l)) && [plan, planDue].every((p) => p.some((l) => /Index Scan (using|on) platform_connections_next_check_idx/.test(l))),
      refreshTickMs,
      refreshed: result.refreshed,
      refreshRequests,
    };
  } finally {
    await server.close();
    await sandbox.close();
  }
}
