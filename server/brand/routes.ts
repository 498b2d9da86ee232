// Brand purpose HTTP: the form (GET/POST /api/brand-purpose), the logo
// (POST /api/upload-logo, GET /uploads/logos/:user/:file) and the guidance.
import { join } from "node:path";
import { Router } from "express";
import { z } from "zod";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { notFound, tooManyRequests } from "../http/errors.ts";
import { consume } from "../http/rate-limit.ts";
import { parseBody } from "../http/validate.ts";
import { formatBrandPurpose } from "./format.ts";
import { guidanceFor } from "./guidance.ts";
import { LOGO_FILE_NAME, logoDir, logoUrlOf, receiveLogo, removeLogoFile, storeLogoFile, verifiedLogo } from "./logo.ts";
import { findBrandPurpose, findLogo, saveBrandPurpose, saveLogo } from "./queries.ts";
import { brandPurposeSchema, guidanceSchema } from "./schemas.ts";
import type { ApiRoute } from "../http/openapi.ts";

// Keystroke-driven: 56 calls were seen while one form was filled in. Enough for that, not for a loop.
const GUIDANCE_LIMIT = { max: 60, windowMs: 60_000 };
const LOGO_UPLOAD_LIMIT = { max: 30, windowMs: 60 * 60_000 };

const logoParams = z.object({ userId: z.string().regex(/^\d{1,10}$/), file: z.string().regex(LOGO_FILE_NAME) });

export function brandRoutes(deps: Deps): Router {
  const r = Router();
  const user = requireUser(deps);

  // 200 null when there is none: the client treats null (or a non-2xx) as "no brand purpose", never {}.
  r.get("/api/brand-purpose", user, async (req, res) => {
    const id = accountOf(req).id;
    const [purpose, logo] = await Promise.all([findBrandPurpose(deps.db, id), findLogo(deps.db, id)]);
    res.json(purpose ? formatBrandPurpose(deps.config, purpose, logo) : null);
  });

  r.post("/api/brand-purpose", user, async (req, res) => {
    const input = parseBody(brandPurposeSchema, req);
    const id = accountOf(req).id;
    const saved = await saveBrandPurpose(deps.db, id, input, deps.clock.now());
    res.json({ success: true, ...formatBrandPurpose(deps.config, saved, await findLogo(deps.db, id)) });
  });

  // Multipart (the one route the JSON-only guard lets through, see http/security.ts) or, from the
  // client's save, JSON {} — answered with the logo already stored. The client's literal
  // `Authorization: valid-token` header is never read: the session cookie decides.
  r.post("/api/upload-logo", user, async (req, res) => {
    const account = accountOf(req);
    if (!req.is("multipart/form-data")) {
      parseBody(z.object({}).strict(), req);
      res.json({ success: true, logoUrl: logoUrlOf(deps.config, await findLogo(deps.db, account.id)) });
      return;
    }
    if (!(await consume(deps.db, { bucket: `logo-upload:${account.id}`, ...LOGO_UPLOAD_LIMIT }, deps.clock.now()))) {
      throw tooManyRequests("Too many logo uploads; try again later", 3600);
    }
    const bytes = await receiveLogo(req, res);
    const image = verifiedLogo(bytes);
    const fileName = await storeLogoFile(deps.config, account.id, bytes, image);
    const replaced = await saveLogo(deps.db, { userId: account.id, fileName, mimeType: image.mimeType, bytes: bytes.length }, deps.clock.now());
    if (replaced) await removeLogoFile(deps.config, account.id, replaced);
    res.json({
      success: true,
      logoUrl: logoUrlOf(deps.config, { userId: account.id, fileName }),
      mimeType: image.mimeType,
      width: image.width,
      height: image.height,
      bytes: bytes.length,
    });
  });

  // Public: platforms (Instagram) fetch post images by URL. Names are content hashes, so caching is forever.
  r.get("/uploads/logos/:userId/:file", async (req, res) => {
    const p = logoParams.safeParse(req.params);
    if (!p.success) throw notFound();
    const logo = await findLogo(deps.db, Number(p.data.userId));
    if (!logo || logo.fileName !== p.data.file) throw notFound();
    res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    res.type(logo.mimeType);
    res.sendFile(join(logoDir(deps.config, logo.userId), logo.fileName), { dotfiles: "deny" });
  });

  r.post("/api/generate-guidance", user, async (req, res) => {
    const input = parseBody(guidanceSchema, req);
    const account = accountOf(req);
    if (!(await consume(deps.db, { bucket: `guidance:${account.id}`, ...GUIDANCE_LIMIT }, deps.clock.now()))) {
      throw tooManyRequests("Too many guidance requests; wait a minute", 60);
    }
    res.json(guidanceFor(input));
  });
  return r;
}

const brandPurposeAnswer = z.looseObject({ brandName: z.string(), corePurpose: z.string(), logoUrl: z.string().nullable(), updatedAt: z.iso.datetime() });

/** The contract of these routes (server/http/contract.ts). */
export const brandApi: ApiRoute[] = [
  {
    method: "get", path: "/api/brand-purpose", tag: "brand", auth: "session", summary: "The saved brand purpose (null when there is none)",
    responses: { 200: { description: "The brand purpose, or null", schema: brandPurposeAnswer.nullable() } },
  },
  {
    method: "post", path: "/api/brand-purpose", tag: "brand", auth: "session", summary: "Save the brand purpose", body: brandPurposeSchema,
    responses: { 200: { description: "Saved", schema: brandPurposeAnswer.extend({ success: z.literal(true) }) } },
  },
  {
    method: "post", path: "/api/upload-logo", tag: "brand", auth: "session", summary: "Upload the logo (multipart field `logo`; JSON {} answers the stored one)", errors: [400, 413, 415, 429],
    responses: { 200: { description: "The logo's public URL (and, for an upload, its type and size)", schema: z.looseObject({ success: z.literal(true), logoUrl: z.string().nullable() }) } },
  },
  {
    method: "get", path: "/uploads/logos/:userId/:file", tag: "brand", summary: "A stored logo (public: platforms fetch it)", params: logoParams, errors: [404],
    responses: { 200: { description: "The image", contentType: "image/*" } },
  },
  {
    method: "post", path: "/api/generate-guidance", tag: "brand", auth: "session", summary: "Writing guidance for the brand purpose form", body: guidanceSchema, errors: [429],
    responses: { 200: { description: "Guidance", schema: z.strictObject({ guidance: z.string(), cached: z.boolean() }) } },
  },
];
