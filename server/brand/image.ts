// Is this buffer really a PNG, JPEG or WebP image? The name and the declared
// type are the uploader's word; the bytes are checked instead: the magic
// number, then the container's structure (PNG chunks with their CRCs up to
// IEND, JPEG markers up to a frame header, WebP's RIFF size and image chunk),
// and non-zero dimensions. Nothing is decoded, so a crafted file cannot reach
// an image decoder here.

// zlib.crc32 needs Node 20.15; package.json allows 20.9, so PNG's CRC-32 is computed here.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const byte of b) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
export type ImageType = "png" | "jpeg" | "webp";

export interface CheckedImage {
  type: ImageType;
  mimeType: string;
  extension: string;
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function checkPng(b: Buffer): CheckedImage | null {
  if (b.length < 8 + 25 + 12 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  let at = 8;
  let width = 0;
  let height = 0;
  let first = true;
  while (at + 12 <= b.length) {
    const length = b.readUInt32BE(at);
    const type = b.toString("latin1", at + 4, at + 8);
    if (at + 12 + length > b.length) return null;
    const crc = b.readUInt32BE(at + 8 + length);
    if (crc32(b.subarray(at + 4, at + 8 + length)) !== crc) return null;
    if (first) {
      if (type !== "IHDR" || length !== 13) return null;
      width = b.readUInt32BE(at + 8);
      height = b.readUInt32BE(at + 12);
      first = false;
    }
    if (type === "IEND") return width > 0 && height > 0 ? { type: "png", mimeType: "image/png", extension: "png", width, height } : null;
    at += 12 + length;
  }
  return null;
}

// Start-of-frame markers (baseline, progressive, …) carry the dimensions.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function checkJpeg(b: Buffer): CheckedImage | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return null;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = b.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > b.length) return null;
    if (SOF.has(marker)) {
      if (length < 7) return null;
      const height = b.readUInt16BE(at + 5);
      const width = b.readUInt16BE(at + 7);
      // The image data must end with End Of Image.
      const ends = b.lastIndexOf(Buffer.from([0xff, 0xd9])) > at;
      return width > 0 && height > 0 && ends ? { type: "jpeg", mimeType: "image/jpeg", extension: "jpg", width, height } : null;
    }
    if (marker === 0xda || marker === 0xd9) return null; // scan or end before any frame header
    at += 2 + length;
  }
  return null;
}

function checkWebp(b: Buffer): CheckedImage | null {
  if (b.length < 30 || b.toString("latin1", 0, 4) !== "RIFF" || b.toString("latin1", 8, 12) !== "WEBP") return null;
  // The RIFF size covers everything after its own 8 bytes.
  if (b.readUInt32LE(4) + 8 !== b.length) return null;
  const chunk = b.toString("latin1", 12, 16);
  const data = 20;
  let width = 0;
  let height = 0;
  if (chunk === "VP8 ") {
    if (b[data + 3] !== 0x9d || b[data + 4] !== 0x01 || b[data + 5] !== 0x2a) return null;
    width = b.readUInt16LE(data + 6) & 0x3fff;
    height = b.readUInt16LE(data + 8) & 0x3fff;
  } else if (chunk === "VP8L") {
    if (b[data] !== 0x2f) return null;
    const bits = b.readUInt32LE(data + 1);
    width = (bits & 0x3fff) + 1;
    height = ((bits >> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8X") {
    width = b.readUIntLE(data + 4, 3) + 1;
    height = b.readUIntLE(data + 7, 3) + 1;
  } else return null;
  return width > 0 && height > 0 ? { type: "webp", mimeType: "image/webp", extension: "webp", width, height } : null;
}

/** The image's real type and size, or null when the bytes are not a well-formed PNG, JPEG or WebP. */
export function checkImage(b: Buffer): CheckedImage | null {
  return checkPng(b) ?? checkJpeg(b) ?? checkWebp(b);
}
