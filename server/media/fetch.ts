// The one way the server downloads a URL a user gave us (post media):
// http(s) only; every address we connect to — first request and each
// redirect — must be public unicast (ipaddr.js decides the range: loopback,
// private, link-local/metadata, CGNAT, multicast, unique-local, IPv4-mapped
// and NAT64 forms are all something else). The check runs on the address the
// socket actually connected to, so a DNS answer that changes between lookups
// (rebinding) cannot slip through. The body streams to a temporary file
// under a byte cap per media kind and a total deadline. Whatever goes wrong,
// the caller sees one neutral message: nothing about our network leaks out
// (the reason goes to the operator's log only). See SECURITY.md "Fetching
// what users point us at".
import { createWriteStream } from "node:fs";
import { unlink } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { lookup as dnsLookup } from "node:dns";
import type { LookupFunction, Socket } from "node:net";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ipaddr from "ipaddr.js";

export type MediaKind = "image" | "video";

export interface MediaFetchConfig {
  maxBytes: Record<MediaKind, number>;
  /** The whole download, redirects included. */
  deadlineMs: number;
  /** URL prefixes fetched even though their address is not public (the sandbox's own /_media/). */
  allow: string[];
}

/** What the user (and the post's error log) sees, whatever the reason. */
export const MEDIA_UNAVAILABLE = "The media could not be downloaded";

export class MediaFetchError extends Error {
  constructor(
    /** For the operator's log only: never shown to the user. */
    readonly reason: string,
    /** A 4xx answer or a refused address: trying again will not help. */
    readonly permanent: boolean,
  ) {
    super(MEDIA_UNAVAILABLE);
    this.name = "MediaFetchError";
  }
}

export interface DownloadedMedia {
  path: string;
  bytes: number;
  contentType: string;
  /** Removes the temporary file. */
  dispose(): Promise<void>;
}

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, list) => (err ? reject(err) : resolve(list))));

/** True for an address a user's URL may reach: public unicast only. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process() turns ::ffff:a.b.c.d into the IPv4 address it carries.
  return ipaddr.process(address).range() === "unicast";
}

const MAX_REDIRECTS = 5;

function allowed(config: MediaFetchConfig, url: URL): boolean {
  return config.allow.some((prefix) => url.href.startsWith(prefix));
}

/**
 * Downloads `url` to a temporary file. Throws MediaFetchError (neutral
 * message) for any refusal or failure; the caller must dispose() the result.
 */
export async function downloadMedia(
  rawUrl: string,
  kind: MediaKind,
  config: MediaFetchConfig,
  resolver: Resolver = systemResolver,
): Promise<DownloadedMedia> {
  const deadline = Date.now() + config.deadlineMs;
  // A file of its own in the temp folder: an unguessable name, created exclusively (save's "wx") and
  // readable by this user only. One unlink disposes of it; a private folder per download (mkdtemp,
  // then a recursive rm's lstat, readdir, rmdir and unlink) was about 6% of the runner's profile (issue 18).
  const path = join(tmpdir(), `aiq-media-${randomUUID()}`);
  const dispose = () => unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  try {
    let url = parseUrl(rawUrl);
    for (let hop = 0; ; hop++) {
      const res = await get(url, config, resolver, deadline);
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw new MediaFetchError("too many redirects", true);
        url = parseUrl(new URL(location, url).href);
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        throw new MediaFetchError(`answered ${status}`, status >= 400 && status < 500 && status !== 408 && status !== 429);
      }
      const bytes = await save(res, path, config.maxBytes[kind], deadline);
      return { path, bytes, contentType: String(res.headers["content-type"] ?? "application/octet-stream"), dispose };
    }
  } catch (err) {
    await dispose();
    if (err instanceof MediaFetchError) throw err;
    throw new MediaFetchError(err instanceof Error ? err.message : String(err), false);
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MediaFetchError("not a URL", true);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new MediaFetchError(`scheme ${url.protocol}`, true);
  if (url.username || url.password) throw new MediaFetchError("credentials in URL", true);
  return url;
}

/** One GET whose connection may only reach a public address (or an allow-listed URL). */
function get(url: URL, config: MediaFetchConfig, resolver: Resolver, deadline: number): Promise<http.IncomingMessage> {
  const open = allowed(config, url);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!open && isIP(host) && !isPublicAddress(host)) return Promise.reject(new MediaFetchError(`address ${host} refused`, true));
  // Every address the name resolves to must be public: the socket uses the one we hand it.
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolver(hostname).then(
      (list) => {
        const usable = open ? list : list.filter((a) => isPublicAddress(a.address));
        if (!usable.length || (!open && usable.length !== list.length)) {
          return callback(new MediaFetchError(`${hostname} resolves to a refused address`, true), "", 4);
        }
        const first = usable[0]!;
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, l: typeof usable) => void)(null, usable);
        callback(null, first.address, first.family);
      },
      (err) => callback(err, "", 4),
    );
  };
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new MediaFetchError("deadline passed", false));
    const client = url.protocol === "https:" ? https : http;
    // No keep-alive agent: a pooled socket would skip the connect-time check.
    const req = client.request(url, { method: "GET", lookup, agent: false, headers: { accept: "image/*, video/*, */*;q=0.5" } });
    const timer = setTimeout(() => req.destroy(new MediaFetchError("deadline passed", false)), remaining);
    req.on("socket", (socket: Socket) => {
      // The address actually connected to, whatever resolved it.
      socket.once("connect", () => {
        const remote = socket.remoteAddress ?? "";
        if (!open && !isPublicAddress(remote)) req.destroy(new MediaFetchError(`connected to refused address ${remote}`, true));
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on("response", (res) => {
      res.once("end", () => clearTimeout(timer));
      res.once("close", () => clearTimeout(timer));
      res.once("error", () => clearTimeout(timer));
      resolve(res);
    });
    req.end();
  });
}

/** Streams the body to `path`, stopping at `maxBytes` or the deadline. */
function save(res: http.IncomingMessage, path: string, maxBytes: number, deadline: number): Promise<number> {
  const declared = Number(res.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    return Promise.reject(new MediaFetchError(`declared ${declared} bytes, over the ${maxBytes} limit`, true));
  }
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { flags: "wx", mode: 0o600 });
    let bytes = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      res.destroy();
      out.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new MediaFetchError("deadline passed", false)), Math.max(0, deadline - Date.now()));
    res.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(new MediaFetchError(`over the ${maxBytes} byte limit`, true));
      // Backpressure: a slow disk pauses the download instead of buffering it.
      if (!out.write(chunk)) {
        res.pause();
        out.once("drain", () => res.resume());
      }
    });
    res.on("aborted", () => fail(new MediaFetchError("answer cut off", false)));
    res.on("error", (err) => fail(err));
    out.on("error", (err) => fail(err));
    res.on("end", () => {
      if (settled) return;
      out.end(() => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(bytes);
      });
    });
  });
}
