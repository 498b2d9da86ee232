// Shared by the brand and content tests: the client's exact brand purpose
// body (CLIENT.md §3: every key always sent), real image bytes and the
// client's multipart logo upload.
import { deflateSync, crc32 } from "node:zlib";
import type { Client } from "../support/client.ts";

export function clientBrandPurpose(overrides: Record<string, unknown> = {}) {
  return {
    brandName: "Bayside Bakery",
    productsServices: "Sourdough loaves, pastries and custom celebration cakes baked fresh every morning in Wynnum.",
    corePurpose: "We bring slow-fermented, honest bread back to the bayside so families can share real food. Everything is made by hand.",
    audience: "Busy local families and cafe owners around Brisbane's bayside suburbs",
    jobToBeDone: "Put fresh, healthy bread on the table without a trip into the city.",
    motivations: "They want to feed their family well and support a local business they trust.",
    painPoints: "Supermarket bread goes stale in a day and is full of additives. Good bakeries are far away.",
    goals: {
      driveTraffic: true,
      buildBrand: true,
      makeSales: true,
      generateLeads: false,
      informEducate: true,
      websiteUrl: "https://baysidebakery.com.au",
      trafficTarget: "500",
      followerTarget: "1000",
      reachTarget: "5000",
      salesUrl: "https://baysidebakery.com.au/order",
      salesTarget: "",
      conversionTarget: "",
      leadTarget: "",
      engagementTarget: "",
      keyMessage: "Real bread takes time, and you can taste it.",
      educationTarget: "",
    },
    contactDetails: { email: "hello@baysidebakery.com.au", phone: "07 3000 0000" },
    logoUrl: "",
    ...overrides,
  };
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real w×h RGB PNG (every chunk with its CRC). */
export function pngImage(w = 4, h = 3): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.concat(Array.from({ length: h }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, 200)])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** A baseline JPEG's structure: SOI, APP0 (JFIF), a frame header with the size, a scan, EOI. */
export function jpegImage(w = 16, h = 9): Buffer {
  const seg = (marker: number, data: number[]) => Buffer.from([0xff, marker, (data.length + 2) >> 8, (data.length + 2) & 0xff, ...data]);
  const app0 = seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof0 = seg(0xc0, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]);
  const sos = seg(0xda, [1, 1, 0, 0, 63, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0, sos, Buffer.alloc(32, 0x55), Buffer.from([0xff, 0xd9])]);
}

/** A lossless WebP container (RIFF size, VP8L header with the dimensions). */
export function webpImage(w = 5, h = 7): Buffer {
  const bits = Buffer.alloc(4);
  bits.writeUInt32LE(((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14));
  const vp8l = Buffer.concat([Buffer.from([0x2f]), bits, Buffer.alloc(11)]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(vp8l.length);
  const body = Buffer.concat([Buffer.from("WEBP"), Buffer.from("VP8L"), size, vp8l]);
  const riff = Buffer.alloc(4);
  riff.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.from("RIFF"), riff, body]);
}

/** The client's upload: multipart, field `logo`, its literal `Authorization: valid-token`, cookies. */
export async function uploadLogo(client: Client, bytes: Buffer, name = "logo.png", type = "image/png", field = "logo") {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)], { type }), name);
  const headers: Record<string, string> = { origin: client.origin, authorization: "valid-token" };
  if (client.cookies.size) headers.cookie = client.cookieHeader;
  const res = await fetch(new URL("/api/upload-logo", client.baseUrl), { method: "POST", body: form, headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), headers: res.headers };
}
