// drizzle-kit reads this for `generate` (schema → SQL). It never needs a live
// database for that; `npm run db:migrate` applies migrations through the
// server's own migrator so the advisory lock and the embedded database work too.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./shared/schema.ts",
  out: "./database/migrations",
  dbCredentials: process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { url: "postgres://localhost/agencyiq" },
});
