// `npm run gift -- create --plan professional --for "Client name" [--count N]`
// Creates gift certificates and prints their codes once: only their SHA-256
// and last four symbols are stored, so a lost code cannot be shown again.
// Uses DATABASE_URL, or the embedded database in DATA_DIR when it is unset.
import { parseArgs } from "node:util";
import { PLAN_NAMES } from "../../shared/schema.ts";
import { loadConfig } from "../config.ts";
import { EmbeddedFolderBusyError } from "../db/embedded-lock.ts";
import { openDatabase } from "../db/index.ts";
import { runMigrations } from "../db/migrate.ts";
import { isPlanName } from "../quota/plans.ts";
import { createCertificates } from "./gift-service.ts";

const USAGE = `Usage: npm run gift -- create --plan <${PLAN_NAMES.join("|")}> --for "Client name" [--count N]`;
const MAX_COUNT = 1000;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parse() {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { plan: { type: "string" }, for: { type: "string" }, count: { type: "string", default: "1" } },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1 || positionals[0] !== "create") fail("Expected the command `create`.");
  if (!isPlanName(values.plan)) fail(`--plan must be one of ${PLAN_NAMES.join(", ")}.`);
  const createdFor = values.for?.trim();
  if (!createdFor) fail("--for is required: who the certificates are for.");
  if (createdFor.length > 200) fail("--for must be at most 200 characters.");
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) fail(`--count must be a whole number from 1 to ${MAX_COUNT}.`);
  return { plan: values.plan, createdFor, count };
}

const args = parse();
const config = loadConfig();
let database: Awaited<ReturnType<typeof openDatabase>>;
try {
  database = await openDatabase({ url: config.database.url, embeddedDir: config.database.embeddedDir });
} catch (err) {
  // A running server holds the embedded folder: opening it too would corrupt it.
  if (!(err instanceof EmbeddedFolderBusyError)) throw err;
  console.error(err.message);
  process.exit(1);
}
try {
  await runMigrations(database);
  const codes = await createCertificates(database.db, { ...args, now: new Date() });
  console.error(`Created ${codes.length} ${args.plan} gift certificate(s) for ${args.createdFor}. Codes are shown only now:`);
  for (const code of codes) console.log(code);
} finally {
  await database.close();
}
