// The built-in writer: needs no account, deterministic, rule-based. Each post
// is the slot's theme said with the brand's own words (first sentences of
// its fields), a call to action from its goals, the local event it falls on,
// and each platform's register: X short, LinkedIn fuller, Instagram with
// hashtags. `size` shrinks the excerpts until the platform's limit is met.
import type { Platform } from "../../shared/schema.ts";
import type { ContactDetails, Goals } from "../brand/schemas.ts";
import { excerpt, firstSentence, inSentence } from "../brand/text.ts";
import type { Slot } from "./slots.ts";

export interface Brand {
  brandName: string;
  productsServices: string;
  corePurpose: string;
  audience: string;
  jobToBeDone: string;
  motivations: string;
  painPoints: string;
  goals: Goals;
  contactDetails: ContactDetails;
}

const pick = <T>(list: T[], i: number) => list[i % list.length]!;

/** A URL people can click, or nothing ("example.com" gets https://). */
function link(url: string): string | undefined {
  const u = url.trim();
  if (!u || /\s/.test(u)) return undefined;
  const full = /^https?:\/\//i.test(u) ? u : `https://${u}`;
  try {
    return new URL(full).hostname.includes(".") ? full : undefined;
  } catch {
    return undefined;
  }
}

function callToAction(b: Brand, slot: Slot): string {
  const site = link(b.goals.websiteUrl);
  const shop = link(b.goals.salesUrl) ?? site;
  const contact = b.contactDetails.email || b.contactDetails.phone;
  switch (slot.theme.key) {
    case "sales":
      return shop ? pick([`Shop now: ${shop}`, `Order today: ${shop}`], slot.round) : "Message us to order.";
    case "leads":
      return contact ? pick([`Get in touch: ${contact}`, `Ask us how: ${contact}`], slot.round) : "Send us a message to find out more.";
    default:
      return site ? pick([`Find out more at ${site}`, `Learn more: ${site}`], slot.round) : contact ? `Get in touch: ${contact}` : "Send us a message to find out more.";
  }
}

function eventLine(slot: Slot, brandName: string): string | undefined {
  const e = slot.event;
  if (!e) return undefined;
  if (e.leadDays === 0) return e.type === "business" ? `It's ${e.name}!` : `Happy ${e.name}, Queensland, from ${brandName}!`;
  return `${e.name} is ${e.leadDays === 1 ? "tomorrow" : "coming up"}.`;
}

/** Headline and message of the slot's theme, at an excerpt length of `len`. */
function message(b: Brand, slot: Slot, len: number): { headline: string; body: string } {
  const name = excerpt(b.brandName, 60);
  const s = (text: string) => firstSentence(text, len);
  const v = slot.round;
  switch (slot.theme.key) {
    case "story":
      return { headline: pick([`Why ${name} exists`, `The story behind ${name}`, `What drives ${name}`], v), body: `${s(b.corePurpose)}.` };
    case "pain":
      return { headline: pick(["Sound familiar?", "We hear this a lot:", "Does this ring a bell?"], v), body: `${s(b.painPoints)}. ${name} is here to change that.` };
    case "job":
      return { headline: pick(["What we help you do", "How we help", "Here's what we do for you"], v), body: `${s(b.jobToBeDone)}.` };
    case "product":
      return { headline: pick([`Spotlight on ${name}`, `From ${name}`, `What ${name} offers`], v), body: `${s(b.productsServices)}.` };
    case "motivation":
      return { headline: pick([`Made for ${inSentence(excerpt(b.audience, 50))}`, "Why customers choose us", "What matters to you matters to us"], v), body: `${s(b.motivations)}.` };
    case "traffic":
      return { headline: pick(["See it for yourself", "Take a look", "Come and explore"], v), body: `${s(b.productsServices)}.` };
    case "sales":
      return { headline: pick(["Ready when you are", "Treat yourself", "Now available"], v), body: `${s(b.productsServices)}.` };
    case "leads":
      return { headline: pick(["Let's talk", "Questions? We'd love to help", "Start with a conversation"], v), body: `${s(b.jobToBeDone)}.` };
    case "educate":
      return { headline: pick(["Quick tip", "Did you know?", "Worth knowing"], v), body: `${s(b.goals.keyMessage || b.goals.educationTarget || b.jobToBeDone)}.` };
  }
}

function hashtags(b: Brand, platform: Platform): string {
  const brandTag = b.brandName.replace(/[^\p{L}\p{N}]+/gu, "");
  const tags = [brandTag && `#${brandTag}`, "#Brisbane", "#Queensland", "#SmallBusiness", platform === "linkedin" ? "#Business" : "#ShopLocal"].filter(Boolean);
  return tags.slice(0, platform === "instagram" ? 5 : 3).join(" ");
}

// Excerpt lengths tried from the fullest to the shortest.
export const SIZES = [220, 140, 90, 50] as const;

/** The post's text for a slot at a given size (0 = fullest). */
export function writePost(b: Brand, slot: Slot, size = 0): string {
  const len = SIZES[Math.min(size, SIZES.length - 1)]!;
  const { headline, body } = message(b, slot, len);
  const event = eventLine(slot, excerpt(b.brandName, 60));
  const cta = callToAction(b, slot);
  switch (slot.platform) {
    case "x":
      return [event, `${headline}${/[?!:.]$/.test(headline) ? "" : ":"} ${body}`, cta].filter(Boolean).join(" ");
    case "linkedin":
      return [event, headline, body, `We work with ${inSentence(firstSentence(b.audience, len))}.`, cta, hashtags(b, "linkedin")].filter(Boolean).join("\n\n");
    case "instagram":
      return [event, `${headline} ✨`, body, cta, hashtags(b, "instagram")].filter(Boolean).join("\n\n");
    default:
      return [event, headline, body, cta].filter(Boolean).join("\n\n");
  }
}
