// Shared helpers for the onboarding tests: codes are read from the SMS outbox,
// exactly as a person reads them from the phone.
import type { TestServer } from "../support/server.ts";

export const HOUR = 60 * 60 * 1000;

let n = 0;
/** A fresh E.164 number per call (Australian mobile range). */
export function newPhone(): string {
  n += 1;
  return `+6149${String(process.pid % 1000).padStart(3, "0")}${String(n).padStart(4, "0")}`;
}

export function codesSentTo(servers: TestServer | TestServer[], phone: string): string[] {
  const list = Array.isArray(servers) ? servers : [servers];
  return list.flatMap((s) => s.deps.sms.outbox.filter((m) => m.to === phone).map((m) => /\b(\d{6})\b/.exec(m.body)![1]!));
}

export function lastCodeFor(server: TestServer, phone: string): string {
  const codes = codesSentTo(server, phone);
  if (!codes.length) throw new Error(`no code was sent to ${phone}`);
  return codes[codes.length - 1]!;
}

/** A six-digit code that is not `code`. */
export function wrongCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, "0");
}

export async function count(server: TestServer, sql: string, params: unknown[] = []): Promise<number> {
  const r = await server.deps.database.pool.query(`select count(*)::int as n from (${sql}) q`, params);
  return r.rows[0].n;
}
