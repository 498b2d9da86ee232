// The yardstick: bare Express + node-postgres answering SELECT 1, so the
// bench reports our endpoint's cost as a ratio measured in the same run.
import express from "express";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = express();
app.get("/select1", async (_req, res) => {
  const r = await pool.query("select 1 as one");
  res.json(r.rows[0]);
});
app.listen(Number(process.env.PORT), "127.0.0.1");
