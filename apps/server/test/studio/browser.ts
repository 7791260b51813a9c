/**
 * The browser of Studio's tests: Debian's Chromium driven by playwright-core (which never
 * downloads a browser). A missing Chromium or an unbuilt studio fails the tests with what to do,
 * never skips them.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env["KODO_CHROMIUM"] ?? "/usr/bin/chromium";
export const STUDIO_INDEX = fileURLToPath(new URL("../../../studio/dist/index.html", import.meta.url));
export const SCREENSHOTS_DIR = fileURLToPath(new URL("../../../../docs/screenshots/", import.meta.url));

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Studio's browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run installs it), or set KODO_CHROMIUM to its path`);
  }
  if (!existsSync(STUDIO_INDEX)) {
    throw new Error(`Studio is not built (no ${STUDIO_INDEX}): run npm run build first (npm test does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // root needs --no-sandbox; the rest keeps a closed network quiet
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Errors the page reports (uncaught exceptions, console errors such as CSP violations), for asserting none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** With KODO_SCREENSHOTS=1, saves `docs/screenshots/<name>.png`; otherwise does nothing. */
export async function screenshot(page: Page, name: string, options: { selector?: string; fullPage?: boolean } = {}): Promise<void> {
  if (process.env["KODO_SCREENSHOTS"] !== "1") return;
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  // no blinking caret or spinner frames in the pictures
  const still = { animations: "disabled", caret: "hide" } as const;
  if (options.fullPage === true) await page.evaluate(() => window.scrollTo(0, 0));
  if (options.selector !== undefined) await page.locator(options.selector).first().screenshot({ path: file, ...still });
  else await page.screenshot({ path: file, fullPage: options.fullPage ?? false, ...still });
}
