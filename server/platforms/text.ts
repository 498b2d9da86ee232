// Length as each platform counts it, and LinkedIn's escaping.

// twitter-text v3: these code points weigh 1, everything else 2; an emoji
// sequence weighs 2 whatever its length; a URL weighs 23; text is NFC first.
const LIGHT_RANGES: Array<[number, number]> = [
  [0x0000, 0x10ff],
  [0x2000, 0x200d],
  [0x2010, 0x201f],
  [0x2032, 0x2037],
];
export const X_MAX_WEIGHTED = 280;
export const X_URL_WEIGHT = 23;

const TLDS = "com|net|org|io|co|au|uk|nz|ca|us|de|fr|app|dev|me|info|biz|ly|gg|tv|ai|xyz";
const URL_RE = new RegExp(
  String.raw`(?:\bhttps?:\/\/[^\s]+|\bwww\.[^\s]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:${TLDS})\b(?:\/[^\s]*)?)`,
  "gi",
);
const EMOJI_RE = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

function codePointWeight(cp: number): number {
  return LIGHT_RANGES.some(([a, b]) => cp >= a && cp <= b) ? 1 : 2;
}

/** The length X counts against its 280 limit. */
export function xWeightedLength(text: string): number {
  const normal = text.normalize("NFC");
  let weight = 0;
  let rest = "";
  let last = 0;
  for (const m of normal.matchAll(URL_RE)) {
    // Trailing sentence punctuation is not part of the link.
    const url = m[0].replace(/[.,!?;:)\]'"]+$/, "");
    rest += normal.slice(last, m.index);
    weight += X_URL_WEIGHT;
    last = m.index! + url.length;
  }
  rest += normal.slice(last);
  for (const { segment } of segmenter.segment(rest)) {
    if (EMOJI_RE.test(segment)) {
      weight += 2;
      continue;
    }
    for (const ch of segment) weight += codePointWeight(ch.codePointAt(0)!);
  }
  return weight;
}

// LinkedIn "little text": these characters are markup and cut the text unless escaped.
const LINKEDIN_RESERVED = /[\\|{}@[\]()<>#*_~]/g;
export const LINKEDIN_MAX = 3000;

export function linkedinEscape(text: string): string {
  return text.replace(LINKEDIN_RESERVED, (c) => `\\${c}`);
}

export function linkedinUnescape(text: string): string {
  return text.replace(/\\(.)/gs, "$1");
}

/** Number of #hashtags, as Instagram counts them against its 30. */
export function hashtagCount(text: string): number {
  return (text.match(/(^|[^\p{L}\p{N}_])#[\p{L}\p{N}_]+/gu) ?? []).length;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Compares texts the way reconciliation needs: NFC, whitespace collapsed. */
export function sameText(a: string, b: string): boolean {
  const n = (s: string) => s.normalize("NFC").replace(/\s+/g, " ").trim();
  return n(a) === n(b);
}
