/**
 * A real browser for tests: Debian's Chromium, headless, driven by playwright-core (which cannot
 * download a browser of its own here). Each launch gets a fresh temporary profile.
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { commandAvailable, type Requirement } from "./_services.ts";

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Where screenshots go: `LEDGE_SCREENSHOTS_DIR`, else `dist/console-screenshots/`. */
export const SCREENSHOT_DIR = Deno.env.get("LEDGE_SCREENSHOTS_DIR") ??
  new URL("../dist/console-screenshots/", import.meta.url).pathname;

/** Whether Chromium is installed. */
export async function chromiumAvailable(): Promise<Requirement> {
  const found = await commandAvailable(CHROMIUM);
  return {
    what: "chromium",
    missing: found.missing && "chromium not installed (apt-get install chromium)",
  };
}

/** Launches headless Chromium with nothing that phones home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** What went wrong in a page: console errors, uncaught exceptions, failed requests. */
export interface PageProblems {
  readonly list: string[];
}

/** Starts collecting `page`'s console errors, page errors and failed requests. */
export function watchProblems(page: Page): PageProblems {
  const list: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      list.push(`console.${message.type()}: ${message.text()} (${page.url()})`);
    }
  });
  page.on("pageerror", (error) => list.push(`page error: ${error.message} (${page.url()})`));
  page.on("requestfailed", (request) => {
    // Leaving a page cancels what it still had in flight (a live region's refresh, the log
    // stream): the browser's own abort, not a failure.
    const reason = request.failure()?.errorText ?? "";
    if (reason === "net::ERR_ABORTED") return;
    list.push(`request failed: ${request.url()} ${reason}`);
  });
  return { list };
}
