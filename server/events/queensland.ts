// Queensland events for the next days: public holidays (national and QLD)
// and observances from date-holidays (a maintained data set with each rule
// and its source), plus a few dated business events added as date-holidays
// rules, never as a list of dates:
// - End of financial year (30 June): Australia's income year ends then
//   (Income Tax Assessment Act 1997, s 995-1 "income year"); "EOFY sales" are a
//   fixture of Australian retail and small-business marketing.
// - Black Friday (the Friday after the fourth Thursday of November): run by
//   Australian retailers as by US ones, the start of the Christmas sales.
// - Valentine's Day (14 February): a major trading day for hospitality, florists and gifts.
import type Holidays from "date-holidays";
import { holidaysPackage } from "../lazy-packages.ts";

export type EventImpact = "high" | "medium" | "low";

export interface LocalEvent {
  /** Local date in Queensland, YYYY-MM-DD. */
  date: string;
  name: string;
  type: "public_holiday" | "observance" | "business";
  impact: EventImpact;
}

const BUSINESS_RULES: Array<[rule: string, name: string]> = [
  ["06-30", "End of financial year"],
  ["friday after 4th thursday in November", "Black Friday"],
  ["02-14", "Valentine's Day"],
];
const BUSINESS_NAMES = new Set(BUSINESS_RULES.map(([, n]) => n));

function calendar(): Holidays {
  const hd = new (holidaysPackage())("AU", "QLD", { types: ["public", "observance"] });
  for (const [rule, name] of BUSINESS_RULES) hd.setHoliday(rule, { name: { en: name }, type: "observance" });
  return hd;
}
// Built at first use: date-holidays is loaded then, not at start-up (lazy-packages.ts).
let qld: Holidays | undefined;

// Building an Intl formatter costs far more than using one: one per time zone.
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  let f = dateFormats.get(timeZone);
  if (!f) dateFormats.set(timeZone, (f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f.format(at);
}

// A year's holidays never change while the process runs.
const byYear = new Map<number, ReturnType<Holidays["getHolidays"]>>();
function holidaysOf(year: number) {
  let list = byYear.get(year);
  if (!list) byYear.set(year, (list = (qld ??= calendar()).getHolidays(year)));
  return list;
}

/** The date `days` after a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Events on the local dates [from, from + days), in date order. */
export function queenslandEvents(from: string, days: number): LocalEvent[] {
  const to = addDays(from, days);
  const years = new Set([Number(from.slice(0, 4)), Number(to.slice(0, 4))]);
  const seen = new Set<string>();
  const out: LocalEvent[] = [];
  for (const year of [...years].sort()) {
    for (const h of holidaysOf(year)) {
      const date = h.date.slice(0, 10);
      if (date < from || date >= to || seen.has(`${date}|${h.name}`)) continue;
      seen.add(`${date}|${h.name}`);
      if (h.type === "public") out.push({ date, name: h.name, type: "public_holiday", impact: "high" });
      else if (BUSINESS_NAMES.has(h.name)) out.push({ date, name: h.name, type: "business", impact: "medium" });
      else out.push({ date, name: h.name, type: "observance", impact: "medium" });
    }
  }
  return out.sort((a, b) => a.date.localeCompare(b.date) || a.name.localeCompare(b.name));
}
