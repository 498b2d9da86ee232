// Headless Chromium from Debian's package driven by playwright-core (no browser
// download), with a context on the test server whose user has signed up: the
// context's request API shares the browser's cookie jar, so the browser is logged in.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { newIdentity, type TestServer } from "./server.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`;

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  userId: number;
}

export async function signedUpBrowser(server: TestServer, tag: string): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ baseURL: server.url });
  context.setDefaultTimeout(20_000);
  const signup = await context.request.post("/api/auth/signup", { data: newIdentity(tag), headers: { origin: server.url } });
  assert.equal(signup.status(), 201);
  const userId = (await signup.json()).user.id as number;
  return { browser, context, page: await context.newPage(), userId };
}
