// The brand purpose as the client reads it (CLIENT.md §3), field by field.
import type { BrandLogo, BrandPurpose } from "../../shared/schema.ts";
import type { Config } from "../config.ts";
import { logoUrlOf } from "./logo.ts";
import type { ContactDetails, Goals } from "./schemas.ts";

export function formatBrandPurpose(config: Pick<Config, "publicUrl">, b: BrandPurpose, logo: BrandLogo | undefined) {
  return {
    brandName: b.brandName,
    productsServices: b.productsServices,
    corePurpose: b.corePurpose,
    audience: b.audience,
    jobToBeDone: b.jobToBeDone,
    motivations: b.motivations,
    painPoints: b.painPoints,
    goals: b.goals as Goals,
    contactDetails: b.contactDetails as ContactDetails,
    logoUrl: logoUrlOf(config, logo),
    updatedAt: b.updatedAt.toISOString(),
  };
}
