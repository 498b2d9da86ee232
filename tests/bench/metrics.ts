// Gauges read from a server's GET /metrics (prom-client's default process metrics), in MB.
export async function metricsMb<N extends string>(baseUrl: string, names: readonly N[]): Promise<Record<N, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const values = {} as Record<N, number>;
  for (const name of names) {
    const m = new RegExp(`^${name} (\\d+)`, "m").exec(text);
    if (!m) throw new Error(`no ${name} in /metrics`);
    values[name] = Number(m[1]) / 1e6;
  }
  return values;
}
