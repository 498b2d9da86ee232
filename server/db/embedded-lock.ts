// One process per embedded data folder. PGlite is PostgreSQL compiled to
// WebAssembly inside this process: two processes opening one folder each
// believe they own it and overwrite each other's pages (seen: the gift CLI
// next to a running server lost a row and broke a foreign key). A lock file
// beside the folder names the process that holds it, like PostgreSQL's own
// postmaster.pid; a lock whose process is gone is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

export class EmbeddedFolderBusyError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(
      `The embedded database in ${dir} is in use by process ${pid} (the server is running on this data folder). ` +
        `Stop that process first, or point both at a PostgreSQL server with DATABASE_URL.`,
    );
    this.name = "EmbeddedFolderBusyError";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the folder's lock or throws EmbeddedFolderBusyError; returns the release function. */
export function lockEmbeddedFolder(dir: string): () => void {
  const file = `${dir}.lock`;
  for (let tries = 0; ; tries++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || tries > 0) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new EmbeddedFolderBusyError(dir, Number(readFileSync(file, "utf8")) || 0);
        throw err;
      }
      const holder = Number(readFileSync(file, "utf8").trim());
      if (holder && holder !== process.pid && alive(holder)) throw new EmbeddedFolderBusyError(dir, holder);
      // Left by a process that died (or by this one): take it over.
      unlinkSync(file);
    }
  }
}
