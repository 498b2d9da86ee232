// Counts the statements a piece of work sends through a Drizzle database's
// driver client (pg's pool or PGlite): the benchmark's statements per post,
// and the fast-start test's one-statement migration check.
export async function countStatements(db: unknown, fn: () => Promise<void>): Promise<number> {
  const driver = (db as { $client: { query: (...args: unknown[]) => unknown } }).$client;
  const original = driver.query;
  let n = 0;
  driver.query = function (this: unknown, ...args: unknown[]) {
    n += 1;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    driver.query = original;
  }
  return n;
}
