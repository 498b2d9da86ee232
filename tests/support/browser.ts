// Headless Chromium from Debian's package driven by playwright-core (no browser
// download): a context on the test server whose user has signed up (the
// context's request API shares the browser's cookie jar, so the browser is
// logged in), or the connect flow as a person does it (log in on /connect,
// Connect, Allow).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { Platform } from "../../shared/schema.ts";
import { newIdentity, type TestServer } from "./server.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`;

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  userId: number;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export async function signedUpBrowser(server: TestServer, tag: string): Promise<BrowserSession> {
  const browser = await launchChromium();
  const context = await browser.newContext({ baseURL: server.url });
  context.setDefaultTimeout(20_000);
  const signup = await context.request.post("/api/auth/signup", { data: newIdentity(tag), headers: { origin: server.url } });
  assert.equal(signup.status(), 201);
  const userId = (await signup.json()).user.id as number;
  return { browser, context, page: await context.newPage(), userId };
}

/** Opens `connectUrl` logged out, logs in with the page's form and connects `platform` through the sandbox's consent popup. */
export async function logInAndConnect(browser: Browser, connectUrl: string, login: { email: string; password: string }, platform: Platform): Promise<string> {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(connectUrl);
  await page.fill("#login input[name=email]", login.email);
  await page.fill("#login input[name=password]", login.password);
  await page.click("#login button[type=submit]");
  await page.waitForSelector(`#platform-${platform}[data-status=disconnected]`);
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.click(`#platform-${platform} button[data-action=connect]`)]);
  await popup.waitForLoadState();
  const closed = popup.waitForEvent("close");
  await popup.click("button[value=allow]");
  await closed;
  await page.waitForSelector(`#platform-${platform}[data-status=connected]`);
  return page.url();
}
