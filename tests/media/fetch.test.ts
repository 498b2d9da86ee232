// The guarded fetcher against real local listeners: loopback, private,
// link-local (cloud metadata), CGNAT, multicast, IPv6 and IPv4-mapped forms
// are refused before or at connect time, on the first request and on every
// redirect; a name that resolves (or re-resolves) to such an address is
// refused on the address actually connected; oversize bodies stop at the
// cap; every refusal says the same neutral sentence. Only an allow-listed
// prefix may reach a private address (the sandbox's own media).
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { downloadMedia, isPublicAddress, MEDIA_UNAVAILABLE, MediaFetchError, type MediaFetchConfig, type Resolver } from "../../server/media/fetch.ts";

describe("guarded media fetcher", () => {
  let server: Server;
  let base: string;
  let hits: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? "");
      if (req.url === "/ok.mp4") return void res.writeHead(200, { "content-type": "video/mp4" }).end(Buffer.alloc(1000, 1));
      if (req.url === "/big.mp4") {
        // No content-length: the cap must hold while streaming.
        res.writeHead(200, { "content-type": "video/mp4" });
        const block = Buffer.alloc(64 * 1024, 2);
        for (let i = 0; i < 40; i++) res.write(block);
        return void res.end();
      }
      if (req.url === "/declared.mp4") return void res.writeHead(200, { "content-length": String(50 * 1024 * 1024) }).end();
      if (req.url === "/to-secret") return void res.writeHead(302, { location: "/secret" }).end();
      if (req.url === "/to-metadata") return void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      if (req.url === "/missing.mp4") return void res.writeHead(404).end("no");
      if (req.url === "/never") return; // never answers
      res.writeHead(200).end("internal secret");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const config = (o: Partial<MediaFetchConfig> = {}): MediaFetchConfig => ({
    maxBytes: { image: 100 * 1024, video: 1024 * 1024 },
    deadlineMs: 10_000,
    allow: [],
    ...o,
  });

  async function refused(url: string, c = config(), resolver?: Resolver): Promise<MediaFetchError> {
    const err = await downloadMedia(url, "video", c, resolver).then(
      () => assert.fail(`${url} was downloaded`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MediaFetchError, String(err));
    assert.equal(err.message, MEDIA_UNAVAILABLE, "one neutral sentence, whatever happened");
    return err;
  }

  it("knows which addresses are public", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "0.0.0.0", "255.255.255.255",
      "::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "fd00:ec2::254", "not an ip"]) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) assert.equal(isPublicAddress(a), true, a);
  });

  it("refuses loopback, private, metadata, CGNAT, multicast, IPv6 and IPv4-mapped literals without connecting", async () => {
    hits = [];
    const port = (server.address() as AddressInfo).port;
    for (const host of ["127.0.0.1", "10.0.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[fd00::1]", "0.0.0.0"]) {
      const err = await refused(`http://${host}:${port}/ok.mp4`);
      assert.equal(err.permanent, true, host);
    }
    assert.deepEqual(hits, [], "nothing reached the listener");
  });

  it("refuses other schemes and credentials in the URL", async () => {
    for (const u of ["file:///etc/passwd", "ftp://example.com/x.mp4", "gopher://127.0.0.1/", "not a url", "http://user:pw@example.com/x.mp4"]) await refused(u);
  });

  it("refuses a name that resolves to loopback, and one that re-resolves to it (the connected address is checked)", async () => {
    hits = [];
    const port = (server.address() as AddressInfo).port;
    await refused(`http://localhost:${port}/ok.mp4`);
    const toLoopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    await refused(`http://media.example.com:${port}/ok.mp4`, config(), toLoopback);
    // Any refused address among the answers refuses the name: no picking the "good" one.
    const mixed: Resolver = async () => [{ address: "8.8.8.8", family: 4 }, { address: "127.0.0.1", family: 4 }];
    await refused(`http://media.example.com:${port}/ok.mp4`, config(), mixed);
    assert.deepEqual(hits, []);
  });

  it("fetches an allow-listed prefix into a file, and refuses a redirect from it to anything outside the list", async () => {
    hits = [];
    const c = config({ allow: [`${base}/ok.mp4`, `${base}/to-`] });
    const got = await downloadMedia(`${base}/ok.mp4`, "video", c);
    try {
      assert.equal(got.bytes, 1000);
      assert.equal(got.contentType, "video/mp4");
      assert.deepEqual(await readFile(got.path), Buffer.alloc(1000, 1));
      // One file straight in the temp folder (no folder per download to make and remove), this user's only.
      assert.equal(dirname(got.path), tmpdir());
      assert.equal((await stat(got.path)).mode & 0o777, 0o600);
    } finally {
      await got.dispose();
    }
    await assert.rejects(readFile(got.path), "disposed");
    await got.dispose(); // twice is harmless
    await refused(`${base}/to-secret`, c);
    await refused(`${base}/to-metadata`, c);
    assert.deepEqual(hits, ["/ok.mp4", "/to-secret", "/to-metadata"], "the redirect targets were never requested");
    // The same origin outside the listed prefix is refused.
    await refused(`${base}/secret`, c);
  });

  it("stops at the byte cap of the media kind, streaming or declared, and says nothing about why", async () => {
    const c = config({ allow: [base] });
    const streamed = await refused(`${base}/big.mp4`, c);
    assert.match(streamed.reason, /limit/);
    const declared = await refused(`${base}/declared.mp4`, c);
    assert.match(declared.reason, /limit/);
    // An image has a smaller cap than a video.
    await assert.rejects(downloadMedia(`${base}/ok.mp4`, "image", config({ allow: [base], maxBytes: { image: 999, video: 1024 * 1024 } })), MediaFetchError);
  });

  it("gives up at the deadline, and a 404 is the same neutral error", async () => {
    const c = config({ allow: [base], deadlineMs: 300 });
    const slow = await refused(`${base}/never`, c);
    assert.equal(slow.permanent, false);
    const missing = await refused(`${base}/missing.mp4`, config({ allow: [base] }));
    assert.equal(missing.permanent, true);
  });
});
