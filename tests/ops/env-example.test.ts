// .env.example lists every variable server/config.ts reads, so it can be trusted as the list.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ENV_VARIABLES } from "../../server/config.ts";

describe(".env.example", () => {
  it("names every variable the configuration reads", () => {
    const text = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    const listed = new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    assert.ok(ENV_VARIABLES.length > 50);
    assert.deepEqual(ENV_VARIABLES.filter((v) => !listed.has(v)), []);
  });
});
