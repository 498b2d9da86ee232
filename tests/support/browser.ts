// Debian's Chromium through playwright-core (never a downloaded browser), and
// the connect flow as a person does it: log in on /connect, Connect, Allow.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import type { Platform } from "../../shared/schema.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** A test's `skip` value: false when Chromium is there, else why it is skipped. */
export const noBrowser = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
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
