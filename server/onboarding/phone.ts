// Phone numbers are stored and compared in E.164 (+<country><number>).
// We accept common formatting (spaces, dashes, dots, parentheses) and a 00
// international prefix; a number without a country code is refused rather
// than guessed.
import { z } from "zod";

const E164 = /^\+[1-9]\d{7,14}$/;

export function normalizePhone(input: string): string | null {
  let p = input.trim().replace(/[\s\-.()]/g, "");
  if (p.startsWith("00")) p = `+${p.slice(2)}`;
  return E164.test(p) ? p : null;
}

/** A zod field that normalises to E.164 or fails naming the expected format. */
export const phoneField = z
  .string()
  .max(32)
  .transform((v, ctx) => {
    const p = normalizePhone(v);
    if (!p) {
      ctx.addIssue({ code: "custom", message: "must be an international phone number such as +61412345678" });
      return z.NEVER;
    }
    return p;
  });
