// Media bytes for platforms that take uploads (X, LinkedIn): downloaded only
// through the guarded fetcher, then handed over as a Buffer (images: a few
// MB at most) or by parts from the temporary file (video).
import { readFile } from "node:fs/promises";
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
