// `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the
// embedded database in DATA_DIR when it is unset.
import { loadConfig } from "../config.ts";
import { openDatabase } from "./index.ts";
import { runMigrations } from "./migrate.ts";

const config = loadConfig();
const database = await openDatabase({ url: config.database.url, embeddedDir: config.database.embeddedDir });
await runMigrations(database);
await database.close();
console.log(`Migrations applied to the ${database.kind} database.`);
