// The zod building blocks for what users type and what ends up in PostgreSQL:
// free text and dates. Every route uses these instead of a bare z.string() or
// z.iso.datetime(), so no input can reach the database in a form it refuses
// (PostgreSQL rejects NUL in text, 22021, and timestamps outside its range,
// 22008/22009) — that would be a 500 instead of a 400 naming the field.
import { z } from "zod";

// C0 controls and DEL, except tab, line feed and carriage return (real text has them).
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// A single-line value (an id, a name) has none at all.
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F]/;

// A surrogate without its pair (JSON "\ud800" parses to one) is not text: PostgreSQL would store U+FFFD instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (v: string) => !LONE_SURROGATE.test(v);

function textWithout(control: RegExp, max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !control.test(v), "must not contain control characters")
    .refine(wellFormed, "must be valid Unicode text");
}

/** Free text (post content): tabs and line breaks allowed, other control characters and broken Unicode refused. */
export const safeText = (max: number) => textWithout(CONTROL_IN_TEXT, max);

/** A single-line value (ids, codes, URLs): no control characters at all. */
export const safeLine = (max: number) => textWithout(CONTROL_IN_LINE, max);

// Well inside what PostgreSQL's timestamptz stores; `Date` and ISO 8601 both handle it.
const EARLIEST = new Date("1970-01-01T00:00:00.000Z");
const LATEST = new Date("9999-12-31T23:59:59.999Z");

/** An ISO 8601 date-time with an offset (…Z or …+10:00), between 1970 and 9999 in UTC, as a Date. */
export const safeDateTime = z.iso
  .datetime({ offset: true, message: "must be an ISO 8601 date-time with a time zone, such as 2026-01-31T09:00:00Z" })
  .transform((v) => new Date(v))
  .pipe(
    z
      .date()
      .min(EARLIEST, "must be a date between 1970 and 9999")
      .max(LATEST, "must be a date between 1970 and 9999"),
  );
