// A fresh copy of the repository as a clone holds it (the sources, the
// migrations and the snapshot, the scripts; node_modules linked as `npm ci`
// left it; nothing built, no data folder), for tests and benchmarks that run
// `npm start` the way a new user does.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./process.ts";

const CLONE_ENTRIES = ["package.json", "package-lock.json", "tsconfig.json", "server", "shared", "database", "scripts"];

export function freshClone(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "aiq-clone-"));
  for (const entry of CLONE_ENTRIES) cpSync(join(REPO_ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
