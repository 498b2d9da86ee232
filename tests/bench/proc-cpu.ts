// CPU time of other processes on this machine, from Linux's /proc: the
// sandbox's process and the PostgreSQL backends serving one database, so the
// publishing bench can say where a post's CPU goes beside the runner's own.
// Ticks are 1/100 s on Linux (CLK_TCK); off Linux these read 0.
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10;
const BACKEND = /^postgres: (?:[^ ]+: )?[^ ]+ ([^ ]+) /;

/** utime + stime of a process, in ms (0 once it is gone). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), counted from field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU per PostgreSQL backend (pid → ms) connected to `database` (a backend's title names its database). */
export function postgresBackendsCpu(database: string): Map<number, number> {
  const cpu = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return cpu;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0]!;
      // A backend's title: "postgres: [<cluster>: ]<user> <database> <host>(<port>) <state>".
      if (BACKEND.exec(title)?.[1] === database) cpu.set(Number(entry), processCpuMs(Number(entry)));
    } catch {
      /* gone meanwhile */
    }
  }
  return cpu;
}

/**
 * Starts measuring the CPU the backends serving `database` spend; the returned
 * function gives the ms spent since. Per backend: one that closes meanwhile (a
 * pool's idle connection) takes its earlier CPU with it instead of making the
 * sum go down; one that opens counts from zero.
 */
export function postgresCpuSince(database: string): () => number {
  const before = postgresBackendsCpu(database);
  return () => {
    let total = 0;
    for (const [pid, ms] of postgresBackendsCpu(database)) total += ms - (before.get(pid) ?? 0);
    return total;
  };
}
