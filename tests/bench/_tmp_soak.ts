process.env.DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const { benchSoak } = await import("./soak.ts");
const r = await benchSoak(Number(process.argv[2] ?? 20));
console.log(JSON.stringify({ ...r, samples: r.samples.length }, null, 1));
