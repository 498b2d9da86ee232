// The token vault: the only code that sees token ciphertext or handles
// plaintext encryption. AES-256-GCM, a fresh 12-byte IV per value, the row's
// identity (user, platform, column) as additional authenticated data, and the
// key version inside the envelope so keys can be rotated:
//   v<version>.<iv>.<tag>.<ciphertext>   (base64url parts)
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Platform } from "../../shared/schema.ts";

export interface VaultKeys {
  key: Buffer;
  keyVersion: number;
  previousKeys: Map<number, Buffer>;
}

export type TokenColumn = "access_token" | "refresh_token";

export interface RowIdentity {
  userId: number;
  platform: Platform;
}

export class TokenDecryptionError extends Error {
  constructor(reason: string) {
    super(`Token could not be decrypted: ${reason}`);
  }
}

const aad = (row: RowIdentity, column: TokenColumn) => Buffer.from(`agencyiq:${row.userId}:${row.platform}:${column}`);

export class TokenVault {
  private readonly keys: Map<number, Buffer>;

  constructor(private readonly config: VaultKeys) {
    this.keys = new Map(config.previousKeys);
    this.keys.set(config.keyVersion, config.key);
  }

  get currentVersion(): number {
    return this.config.keyVersion;
  }

  seal(plaintext: string, row: RowIdentity, column: TokenColumn): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.config.key, iv);
    cipher.setAAD(aad(row, column));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ct].map((b) => b.toString("base64url"));
    return [`v${this.config.keyVersion}`, ...parts].join(".");
  }

  open(envelope: string, row: RowIdentity, column: TokenColumn): string {
    const [version, iv, tag, ct] = envelope.split(".");
    const key = this.keys.get(Number(version?.slice(1)));
    if (!version?.startsWith("v") || !iv || !tag || ct === undefined) throw new TokenDecryptionError("malformed envelope");
    if (!key) throw new TokenDecryptionError(`no key for version ${version}`);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(aad(row, column));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new TokenDecryptionError("authentication failed (tampered, wrong row or wrong key)");
    }
  }

  /** The encrypted columns of a platform_connections row. */
  sealConnection(row: RowIdentity, tokens: { accessToken: string; refreshToken?: string | null }) {
    return {
      accessToken: this.seal(tokens.accessToken, row, "access_token"),
      refreshToken: tokens.refreshToken ? this.seal(tokens.refreshToken, row, "refresh_token") : null,
      tokenKeyVersion: this.config.keyVersion,
    };
  }

  openConnection(row: RowIdentity & { accessToken: string; refreshToken: string | null }) {
    return {
      accessToken: this.open(row.accessToken, row, "access_token"),
      refreshToken: row.refreshToken ? this.open(row.refreshToken, row, "refresh_token") : null,
    };
  }
}
