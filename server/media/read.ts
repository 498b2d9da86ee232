// Media bytes for platforms that take uploads (X, LinkedIn, YouTube):
// downloaded only through the guarded fetcher, then handed over as a Buffer
// (images: a few MB at most) or by parts from the temporary file (video).
import { open, readFile } from "node:fs/promises";
import { downloadMedia, type MediaFetchConfig, type MediaKind } from "./fetch.ts";

export interface MediaBytes {
  bytes: Buffer;
  contentType: string;
}

/** The whole file in memory: for images, whose byte cap is small. */
export async function mediaBytes(url: string, kind: MediaKind, config: MediaFetchConfig): Promise<MediaBytes> {
  const media = await downloadMedia(url, kind, config);
  try {
    return { bytes: await readFile(media.path), contentType: media.contentType.split(";")[0]!.trim() };
  } finally {
    await media.dispose();
  }
}

/** Reads `size` bytes at `offset`: one part of an upload, the only one in memory. */
export type ReadPart = (offset: number, size: number) => Promise<Buffer>;

/**
 * Opens a downloaded file for the duration of `use`, which reads it by parts
 * (video uploads in chunks: YouTube, LinkedIn, X). The file is closed however
 * `use` ends.
 */
export async function withParts<T>(path: string, use: (read: ReadPart) => Promise<T>): Promise<T> {
  const file = await open(path, "r");
  try {
    return await use(async (offset, size) => {
      const part = Buffer.alloc(size);
      // read() may return fewer bytes than asked: keep reading until the part is full or the file ends.
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await file.read(part, filled, size - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === size ? part : part.subarray(0, filled);
    });
  } finally {
    await file.close();
  }
}
