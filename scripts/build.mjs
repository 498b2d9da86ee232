// The server as one JavaScript file: dist/server/index.js, bundled by esbuild
// from server/index.ts with the packages it uses. Running it skips what made
// start-up slow (issue 18): tsx compiling every TypeScript file on each start,
// and Node finding, reading and compiling some thousand package files.
// `npm start` builds when the sources are newer than the bundle (start.mjs);
// tests and `npm run dev` run the TypeScript through tsx and never need it.
import { mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
// Two folders deep, like every source file under server/: the sources' paths
// relative to import.meta.url (../../database/migrations, ../../package.json)
// resolve from the bundle to the same files.
export const BUNDLE = join(ROOT, "dist", "server", "index.js");
const SOURCES = ["server", "shared"];
const INPUTS = ["package-lock.json", "scripts/build.mjs"];

// Left as packages, loaded by Node from node_modules: each finds files of its own
// relative to its module (PGlite's WebAssembly, pino's worker, the session
// table's SQL, node-cron's daemon, Swagger UI's assets), which a bundle would move.
// And the packages server/lazy-packages.ts loads at first use, so no start pays for them.
const EXTERNAL = ["@electric-sql/pglite", "pino", "thread-stream", "connect-pg-simple", "node-cron", "swagger-ui-dist", "pg-native", "stripe", "openai", "date-holidays"];

function newestSource(dir, newest = 0) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(path, newest);
    else newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** True when the bundle is missing or older than a source file, the lockfile or this script. */
export function bundleIsStale() {
  let built;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    return true;
  }
  let newest = 0;
  for (const dir of SOURCES) newest = newestSource(join(ROOT, dir), newest);
  for (const file of INPUTS) newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  return newest > built;
}

export async function buildBundle() {
  const { build } = await import("esbuild");
  mkdirSync(dirname(BUNDLE), { recursive: true });
  // Written aside and renamed: two servers starting at once never run a half-written file.
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(ROOT, "server", "index.ts")],
    outfile: tmp,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: EXTERNAL,
    // Bundled CommonJS packages call require(); an ES module has none of its own.
    banner: { js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);' },
    legalComments: "none",
    logLevel: "warning",
  });
  renameSync(tmp, BUNDLE);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBundle();
