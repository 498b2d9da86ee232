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

/** The summed CPU of every PostgreSQL backend connected to `database` (its title names the database). */
export function postgresCpuMs(database: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0]!;
      // A backend's title: "postgres: [<cluster>: ]<user> <database> <host>(<port>) <state>".
      if (BACKEND.exec(title)?.[1] === database) total += processCpuMs(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}
