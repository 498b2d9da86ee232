// The token vault: ciphertext at rest, row-bound, tamper-evident, rotatable.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { platformConnections } from "../../shared/schema.ts";
import { rotateTokenKey } from "../../server/connections/rotate-key.ts";
import { TokenDecryptionError, TokenVault } from "../../server/connections/vault.ts";
import { needsRealPostgres } from "../support/database.ts";
import { spawnProcess } from "../support/process.ts";
import { signedUpClient, startTestServer, TEST_SECRETS, type TestServer } from "../support/server.ts";

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const vaultA = new TokenVault({ key: keyA, keyVersion: 1, previousKeys: new Map() });
const row = { userId: 7, platform: "x" as const };

describe("token vault", () => {
  it("round-trips, with a fresh IV per value", () => {
    const a = vaultA.seal("secret-access-token", row, "access_token");
    const b = vaultA.seal("secret-access-token", row, "access_token");
    assert.notEqual(a, b);
    assert.ok(!a.includes("secret"));
    assert.match(a, /^v1\./);
    assert.equal(Buffer.from(a.split(".")[1]!, "base64url").length, 12);
    assert.equal(vaultA.open(a, row, "access_token"), "secret-access-token");
  });

  it("a flipped byte fails to decrypt loudly", () => {
    const env = vaultA.seal("secret-access-token", row, "access_token");
    const [v, iv, tag, ct] = env.split(".");
    const bytes = Buffer.from(ct!, "base64url");
    bytes[0]! ^= 0x01;
    const tampered = [v, iv, tag, bytes.toString("base64url")].join(".");
    assert.throws(() => vaultA.open(tampered, row, "access_token"), TokenDecryptionError);
  });

  it("is bound to the row: another user, platform or column cannot open it", () => {
    const env = vaultA.seal("secret", row, "refresh_token");
    assert.throws(() => vaultA.open(env, { ...row, userId: 8 }, "refresh_token"), TokenDecryptionError);
    assert.throws(() => vaultA.open(env, { ...row, platform: "linkedin" }, "refresh_token"), TokenDecryptionError);
    assert.throws(() => vaultA.open(env, row, "access_token"), TokenDecryptionError);
  });

  it("a wrong key fails", () => {
    const env = vaultA.seal("secret", row, "access_token");
    const other = new TokenVault({ key: keyB, keyVersion: 1, previousKeys: new Map() });
    assert.throws(() => other.open(env, row, "access_token"), TokenDecryptionError);
  });
});

describe("tokens at rest and key rotation", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function insertConnections(vault: TokenVault, n: number) {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const { user } = await signedUpClient(server, "vault");
      const identity = { userId: user.id, platform: "x" as const };
      const [c] = await server.deps.db
        .insert(platformConnections)
        .values({
          ...identity,
          platformUserId: `x-${i}`,
          ...vault.sealConnection(identity, { accessToken: `access-${i}`, refreshToken: `refresh-${i}` }),
        })
        .returning();
      ids.push(c!.id);
    }
    return ids;
  }

  it("stores ciphertext only, and rotation re-encrypts every row so the old key is no longer needed", async () => {
    const ids = await insertConnections(vaultA, 5);
    const raw = await server.deps.database.pool.query("select access_token, refresh_token, token_key_version from platform_connections");
    for (const r of raw.rows) {
      assert.doesNotMatch(r.access_token, /access-/);
      assert.doesNotMatch(r.refresh_token, /refresh-/);
      assert.equal(r.token_key_version, 1);
    }

    const rotating = new TokenVault({ key: keyB, keyVersion: 2, previousKeys: new Map([[1, keyA]]) });
    assert.equal(await rotateTokenKey(server.deps.db, rotating, 2), 5);
    assert.equal(await rotateTokenKey(server.deps.db, rotating, 2), 0, "nothing left to rotate");

    const onlyB = new TokenVault({ key: keyB, keyVersion: 2, previousKeys: new Map() });
    const rows = await server.deps.db.select().from(platformConnections);
    for (const r of rows) {
      assert.equal(r.tokenKeyVersion, 2);
      const i = ids.indexOf(r.id);
      assert.deepEqual(onlyB.openConnection(r), { accessToken: `access-${i}`, refreshToken: `refresh-${i}` });
      assert.throws(() => vaultA.openConnection(r), TokenDecryptionError);
    }
    await server.deps.db.delete(platformConnections);
  });

  it("`npm run tokens:rotate-key` rotates a PostgreSQL database", { skip: needsRealPostgres }, async () => {
    const ids = await insertConnections(vaultA, 2);
    const p = spawnProcess({
      env: {
        DATABASE_URL: server.database.url,
        DATA_DIR: server.dataDir,
        SESSION_SECRET: TEST_SECRETS.SESSION_SECRET,
        TOKEN_ENCRYPTION_KEY: keyB.toString("hex"),
        TOKEN_ENCRYPTION_KEY_VERSION: "2",
        TOKEN_ENCRYPTION_PREVIOUS_KEYS: `1:${keyA.toString("hex")}`,
      },
      script: new URL("../../server/connections/rotate-key-cli.ts", import.meta.url).pathname,
    });
    assert.equal(await p.exited, 0, p.output());
    assert.match(p.output(), /Re-encrypted 2 connection/);
    const onlyB = new TokenVault({ key: keyB, keyVersion: 2, previousKeys: new Map() });
    for (const id of ids) {
      const [r] = await server.deps.db.select().from(platformConnections).where(eq(platformConnections.id, id));
      assert.equal(onlyB.openConnection(r!).accessToken, `access-${ids.indexOf(id)}`);
    }
  });
});
