// Small text helpers for writing from the brand purpose: a field cut to a
// readable length at a word boundary, and its first sentence.

/** Collapses whitespace. */
export const tidy = (s: string) => s.replace(/\s+/g, " ").trim();

/** At most `max` characters, cut at a word boundary with an ellipsis. */
export function excerpt(s: string, max: number): string {
  const t = tidy(s);
  if ([...t].length <= max) return t;
  const cut = [...t].slice(0, Math.max(1, max - 1)).join("");
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, "")}…`;
}

/** The first sentence (or the whole text), without its closing punctuation. */
export function firstSentence(s: string, max: number): string {
  const t = tidy(s);
  const m = /^(.+?[.!?])(\s|$)/.exec(t);
  return excerpt((m ? m[1]! : t).replace(/[.!?]+$/, ""), max);
}

/** Lower-cases the first letter so a field reads inside a sentence ("Busy parents" → "busy parents"). */
export function inSentence(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}
