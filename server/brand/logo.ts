// The brand logo: one multipart field `logo`, PNG/JPEG/WebP up to 5 MB,
// checked by its bytes (image.ts), stored under DATA_DIR/uploads/logos/<user>/
// with its content hash in the name, and served by us at a public URL —
// public because Instagram fetches a post's image from its URL.
import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Request, Response } from "express";
import multer from "multer";
import type { BrandLogo } from "../../shared/schema.ts";
import type { Config } from "../config.ts";
import { badRequest, HttpError } from "../http/errors.ts";
import { checkImage, type CheckedImage } from "./image.ts";

export const MAX_LOGO_BYTES = 5 * 1024 * 1024;
export const LOGO_FILE_NAME = /^logo-[0-9a-f]{16}\.(png|jpg|webp)$/;

const upload = multer({
  storage: multer.memoryStorage(),
  // One file and a handful of small fields: anything more is not the client's form.
  limits: { fileSize: MAX_LOGO_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 6 },
}).single("logo");

/** Runs multer and turns its errors into the API's 4xx answers. */
export async function receiveLogo(req: Request, res: Response): Promise<Buffer> {
  await new Promise<void>((resolve, reject) =>
    upload(req, res, (err: unknown) => {
      if (!err) return resolve();
      if (err instanceof multer.MulterError) {
        if (err.code === "LIMIT_FILE_SIZE") return reject(new HttpError(413, "logo_too_large", "The logo must be at most 5 MB"));
        return reject(badRequest("invalid_upload", `The upload must be one image in the field "logo" (${err.message})`));
      }
      reject(badRequest("invalid_upload", "The upload could not be read as multipart form data"));
    }),
  );
  if (!req.file) throw badRequest("logo_missing", 'Choose an image to upload in the field "logo"');
  return req.file.buffer;
}

/** The image's real type, or a 415 naming what is accepted. */
export function verifiedLogo(bytes: Buffer): CheckedImage {
  const image = checkImage(bytes);
  if (!image) throw new HttpError(415, "unsupported_image", "The logo must be a PNG, JPEG or WebP image");
  return image;
}

export const logoDir = (config: Pick<Config, "dataDir">, userId: number) => join(config.dataDir, "uploads", "logos", String(userId));

/** Writes the file (named by its content, so a URL never shows stale bytes) and returns its name. */
export async function storeLogoFile(config: Pick<Config, "dataDir">, userId: number, bytes: Buffer, image: CheckedImage): Promise<string> {
  const fileName = `logo-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.${image.extension}`;
  const dir = logoDir(config, userId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, fileName), bytes);
  return fileName;
}

export async function removeLogoFile(config: Pick<Config, "dataDir">, userId: number, fileName: string): Promise<void> {
  if (LOGO_FILE_NAME.test(fileName)) await rm(join(logoDir(config, userId), fileName), { force: true });
}

export function logoUrlOf(config: Pick<Config, "publicUrl">, logo: Pick<BrandLogo, "userId" | "fileName"> | undefined): string | null {
  return logo ? `${config.publicUrl}/uploads/logos/${logo.userId}/${logo.fileName}` : null;
}
