// Gift certificate codes: 28 symbols of Crockford base32 (140 random bits,
// more than the 128 asked for) in groups of four, e.g. 7KQ2-M9XD-…-4HRT.
// Crockford's alphabet has no I, L, O or U, and reading tolerates what people
// type instead (lower case, O for 0, I/L for 1, spaces, dashes). Only the
// SHA-256 of the canonical code is stored: a 140-bit random code needs no slow
// hash, nobody can guess it offline from the hash.
import { createHash, randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH = 28;
const GROUP = 4;

export function newGiftCode(): string {
  // 256 is a multiple of 32, so `byte & 31` is uniform.
  const symbols = [...randomBytes(LENGTH)].map((b) => ALPHABET[b & 31]).join("");
  return formatGiftCode(symbols);
}

export function formatGiftCode(canonical: string): string {
  return canonical.match(new RegExp(`.{1,${GROUP}}`, "g"))!.join("-");
}

/** The canonical form of what a person typed, or null when it cannot be a code. */
export function canonicalGiftCode(input: string): string | null {
  const s = input
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (s.length !== LENGTH) return null;
  for (const ch of s) if (!ALPHABET.includes(ch)) return null;
  return s;
}

export function giftCodeHash(canonical: string): string {
  return createHash("sha256").update(canonical).digest("hex");
}

/** The last four symbols: enough for support to tell certificates apart, too few to help guessing. */
export function giftCodeHint(canonical: string): string {
  return canonical.slice(-4);
}
