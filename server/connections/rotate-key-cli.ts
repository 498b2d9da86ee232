// `npm run tokens:rotate-key`: set TOKEN_ENCRYPTION_KEY (+ _VERSION) to the new
// key and TOKEN_ENCRYPTION_PREVIOUS_KEYS to the old one(s), run this, then
// drop the old keys from the configuration.
import { loadConfig } from "../config.ts";
import { openDatabase } from "../db/index.ts";
import { runMigrations } from "../db/migrate.ts";
import { rotateTokenKey } from "./rotate-key.ts";
import { TokenVault } from "./vault.ts";

const config = loadConfig();
const database = await openDatabase({ url: config.database.url, embeddedDir: config.database.embeddedDir });
await runMigrations(database);
const n = await rotateTokenKey(database.db, new TokenVault(config.tokens));
await database.close();
console.log(`Re-encrypted ${n} connection(s) under key version ${config.tokens.keyVersion}.`);
