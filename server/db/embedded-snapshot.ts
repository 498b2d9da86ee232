// A new embedded database starts from a snapshot of a freshly initialised and
// migrated PGlite data folder (database/pglite-initdb.tar.gz, `npm run
// db:snapshot`) instead of running initdb and every migration: those were most
// of a first start (8–10 s of 13 on a loaded 2-core machine, issue 18). It
// holds no data. It is a cache, never the schema's source: migrations added
// after it was made apply on top at start as on any database, and a snapshot
// from another PGlite release, or whose migrations are not the first ones of
// the journal, is ignored (initdb and every migration run as before).
//
// Extracted here with plain file writes rather than PGlite's own loadDataDir,
// which writes the same files through its emulated file system and took
// 2.8 s where this takes a fraction of a second.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

export const SNAPSHOT_FILE = fileURLToPath(new URL("../../database/pglite-initdb.tar.gz", import.meta.url));
export const SNAPSHOT_STAMP = fileURLToPath(new URL("../../database/pglite-initdb.json", import.meta.url));

export interface SnapshotStamp {
  /** The PGlite release that made it: its data folder format is that release's. */
  pglite: string;
  /** PostgreSQL's system identifier in the snapshot: a database seeded from it has the same. */
  systemIdentifier: string;
  /** The tags of the migrations applied in it, in order. */
  migrations: string[];
}

/** The migrations' tags in the journal's order. */
export function journalTags(migrationsFolder: string): string[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: Array<{ tag: string }> };
  return journal.entries.map((e) => e.tag);
}

/** Why the snapshot cannot seed a new database here, or undefined when it can. */
export function snapshotUnusable(migrationsFolder: string): string | undefined {
  const stamp = readStamp();
  if (!stamp || !existsSync(SNAPSHOT_FILE)) return "no snapshot";
  if (stamp.pglite !== installedPgliteVersion()) return `made by PGlite ${stamp.pglite}, ${installedPgliteVersion()} installed`;
  const tags = journalTags(migrationsFolder);
  if (!stamp.migrations.every((tag, i) => tags[i] === tag)) return "its migrations are not the journal's first ones";
  return undefined;
}

/** The installed PGlite's version (its package.json, beside the module Node resolves). */
export function installedPgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
    if (pkg.name === "@electric-sql/pglite") return pkg.version;
  }
  throw new Error("@electric-sql/pglite's package.json not found");
}

export function readStamp(): SnapshotStamp | undefined {
  return existsSync(SNAPSHOT_STAMP) ? (JSON.parse(readFileSync(SNAPSHOT_STAMP, "utf8")) as SnapshotStamp) : undefined;
}

/**
 * Fills `dir` from the snapshot when it holds no database yet (no PG_VERSION)
 * and the snapshot is usable here. Extracted into a sibling folder renamed
 * into place, so an interrupted start never leaves a half folder that looks
 * initialised. Returns whether it did.
 */
export function seedFromSnapshot(dir: string, migrationsFolder: string): boolean {
  if (existsSync(join(dir, "PG_VERSION"))) return false;
  if (existsSync(dir) && readdirSync(dir).length > 0) return false; // something else is there: PGlite decides
  if (snapshotUnusable(migrationsFolder)) return false;
  const staging = `${dir}.seeding-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    extractTar(gunzipSync(readFileSync(SNAPSHOT_FILE)), staging);
    rmSync(dir, { recursive: true, force: true }); // an empty folder, checked above
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return true;
}

/**
 * Extracts a ustar archive of directories and regular files (what PGlite's
 * dumpDataDir writes) into `into`. Each entry is a 512-byte header — name at
 * 0 (100 bytes), size in octal at 124, type at 156, name prefix at 345 — then
 * its data padded to 512 bytes; two zero blocks end it.
 */
export function extractTar(tar: Buffer, into: string): void {
  const text = (at: number, length: number) => {
    const raw = tar.subarray(at, at + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? length : end).toString("utf8");
  };
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = text(at, 100);
    if (!name) break;
    const prefix = text(at + 345, 155);
    const size = parseInt(text(at + 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(tar[at + 156]!);
    const relative = normalize(`${prefix ? `${prefix}/` : ""}${name}`).replace(/^\/+/, "");
    if (relative.startsWith("..")) throw new Error(`snapshot entry outside its folder: ${relative}`);
    const target = join(into, relative);
    if (type === "5") mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (type === "0" || type === "\0") {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      writeFileSync(target, tar.subarray(at + 512, at + 512 + size), { mode: 0o600 });
    } else throw new Error(`snapshot entry of unexpected type ${JSON.stringify(type)}: ${relative}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
