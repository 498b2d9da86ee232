// When and where each generated post goes: N posts over the next 30 days
// (from tomorrow, local date), spread evenly, platforms in turn, at the
// configured local times, each with a strategic theme and the Queensland
// event it falls on or leads up to.
import type { Platform } from "../../shared/schema.ts";
import type { Goals } from "../brand/schemas.ts";
import { addDays, localDate, queenslandEvents, type LocalEvent } from "../events/queensland.ts";

export const PLAN_DAYS = 30;
/** A post up to this many days before an event leads up to it. */
const LEAD_DAYS = 3;

export type ThemeKey = "story" | "pain" | "job" | "product" | "motivation" | "traffic" | "sales" | "leads" | "educate";

export interface Theme {
  key: ThemeKey;
  /** strategicTheme, as the schedule page shows it. */
  label: string;
  /** businessCanvasPhase. */
  phase: "awareness" | "consideration" | "conversion" | "retention";
}

const THEMES: Record<ThemeKey, Theme> = {
  story: { key: "story", label: "Brand story", phase: "awareness" },
  pain: { key: "pain", label: "Customer pain point", phase: "awareness" },
  job: { key: "job", label: "The job we do for you", phase: "consideration" },
  product: { key: "product", label: "Product spotlight", phase: "consideration" },
  motivation: { key: "motivation", label: "Why customers choose us", phase: "consideration" },
  traffic: { key: "traffic", label: "Drive website traffic", phase: "conversion" },
  sales: { key: "sales", label: "Make sales", phase: "conversion" },
  leads: { key: "leads", label: "Generate leads", phase: "conversion" },
  educate: { key: "educate", label: "Inform and educate", phase: "retention" },
};

/** The themes this brand's goals call for, in the order they rotate. */
export function themesFor(goals: Goals): Theme[] {
  const keys: ThemeKey[] = ["story", "pain", "product"];
  if (goals.driveTraffic && goals.websiteUrl) keys.push("traffic");
  keys.push("job");
  if (goals.makeSales) keys.push("sales");
  keys.push("motivation");
  if (goals.generateLeads) keys.push("leads");
  if (goals.informEducate || goals.buildBrand) keys.push("educate");
  return keys.map((k) => THEMES[k]);
}

export interface Slot {
  /** 0-based position: the model's answer refers to slots by it. */
  n: number;
  platform: Platform;
  scheduledFor: Date;
  localDate: string;
  localTime: string;
  theme: Theme;
  /** How many earlier slots had this theme on this platform: picks a wording variant. */
  round: number;
  event?: LocalEvent & { leadDays: number };
}

// Building an Intl formatter costs far more than using one: one per time zone.
const partFormats = new Map<string, Intl.DateTimeFormat>();

/** UTC instant of a local date and time in a time zone (DST-safe: the offset is read at that instant). */
export function zonedInstant(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm] = time.split(":").map(Number) as [number, number];
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  let f = partFormats.get(timeZone);
  if (!f) partFormats.set(timeZone, (f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })));
  const offsetAt = (t: number) => {
    const p = f.formatToParts(new Date(t));
    const get = (k: string) => Number(p.find((x) => x.type === k)!.value);
    return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute")) - t;
  };
  const first = asUtc - offsetAt(asUtc);
  return new Date(asUtc - offsetAt(first));
}

export interface SlotPlan {
  platforms: Platform[];
  count: number;
  now: Date;
  timeZone: string;
  postTimes: string[];
  themes: Theme[];
  /** The end of the current cycle: an approved post is planned for the cycle it was approved in, so none goes later. */
  until: Date;
}

/**
 * One post per slot, a slot being a platform, a day and a posting time: the
 * platforms take turns; each platform's posts are spread evenly over the days
 * left in the cycle (at most 30, from tomorrow) and rotate through the
 * posting times, so a day never holds two posts of one platform at one time.
 */
export function planSlots(p: SlotPlan): Slot[] {
  if (!p.platforms.length || p.count <= 0) return [];
  const today = localDate(p.now, p.timeZone);
  const events = queenslandEvents(addDays(today, 1), PLAN_DAYS + LEAD_DAYS);
  // The days (from tomorrow, at most PLAN_DAYS) whose last posting time is still inside the cycle.
  const latest = [...p.postTimes].sort().at(-1)!;
  let days = 0;
  while (days < PLAN_DAYS && zonedInstant(addDays(today, days + 1), latest, p.timeZone) < p.until) days++;
  days = Math.max(days, 1);
  const platforms = p.platforms.length;
  const times = p.postTimes.length;
  const count = Math.min(p.count, platforms * days * times);
  const rounds = new Map<string, number>();
  const slots = Array.from({ length: count }, (_, n) => {
    const which = n % platforms;
    const platform = p.platforms[which]!;
    const j = Math.floor(n / platforms);
    const onPlatform = Math.ceil((count - which) / platforms);
    const date = addDays(today, 1 + Math.floor((j * days) / onPlatform));
    const time = p.postTimes[(j + which) % times]!;
    const theme = p.themes[j % p.themes.length]!;
    const key = `${platform}|${theme.key}`;
    const round = rounds.get(key) ?? 0;
    rounds.set(key, round + 1);
    const event = events.find((e) => e.date >= date && e.date <= addDays(date, LEAD_DAYS));
    const leadDays = event ? Math.round((Date.parse(event.date) - Date.parse(date)) / 86_400_000) : 0;
    return {
      n,
      platform,
      scheduledFor: zonedInstant(date, time, p.timeZone),
      localDate: date,
      localTime: time,
      theme,
      round,
      ...(event ? { event: { ...event, leadDays } } : {}),
    };
  });
  return slots.filter((s) => s.scheduledFor < p.until).map((s, n) => ({ ...s, n }));
}
