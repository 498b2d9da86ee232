// The brand purpose form as the client sends it (CLIENT.md §3), with the
// client's own limits: 2–600 characters for the name, 10–600 for the rest.
import { z } from "zod";

const text = (min: number) => z.string().trim().min(min, `must be at least ${min} characters`).max(600, "must be at most 600 characters");
const optional = z.string().trim().max(600, "must be at most 600 characters").default("");

export const GOAL_FLAGS = ["driveTraffic", "buildBrand", "makeSales", "generateLeads", "informEducate"] as const;
export const GOAL_TEXTS = [
  "websiteUrl",
  "trafficTarget",
  "followerTarget",
  "reachTarget",
  "salesUrl",
  "salesTarget",
  "conversionTarget",
  "leadTarget",
  "engagementTarget",
  "keyMessage",
  "educationTarget",
] as const;

export const goalsSchema = z.object({
  ...Object.fromEntries(GOAL_FLAGS.map((k) => [k, z.boolean().default(false)])),
  ...Object.fromEntries(GOAL_TEXTS.map((k) => [k, optional])),
}) as unknown as z.ZodType<Goals>;

export type Goals = Record<(typeof GOAL_FLAGS)[number], boolean> & Record<(typeof GOAL_TEXTS)[number], string>;

export const contactSchema = z.object({
  email: z.union([z.literal(""), z.email("must be an email address or empty").max(254)]).default(""),
  phone: z.string().trim().max(40, "must be at most 40 characters").default(""),
});
export type ContactDetails = z.infer<typeof contactSchema>;

/** The whole form. Unknown keys (logoUrl, updatedAt echoed back) are dropped: the logo comes from the upload only. */
export const brandPurposeSchema = z.object({
  brandName: text(2),
  productsServices: text(10),
  corePurpose: text(10),
  audience: text(10),
  jobToBeDone: text(10),
  motivations: text(10),
  painPoints: text(10),
  goals: goalsSchema.default({} as Goals),
  contactDetails: contactSchema.default({ email: "", phone: "" }),
});
export type BrandPurposeInput = z.infer<typeof brandPurposeSchema>;

/** What guidance reads: any field may be "" or missing while the form is filled in. */
const draft = z.string().max(600, "must be at most 600 characters").default("");
export const guidanceSchema = z.object({
  brandName: draft,
  productsServices: draft,
  corePurpose: draft,
  audience: draft,
  jobToBeDone: draft,
  motivations: draft,
  painPoints: draft,
});
export type GuidanceInput = z.infer<typeof guidanceSchema>;
