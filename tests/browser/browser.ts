/**
 * Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by playwright-core
 * (never a downloaded browser), with a fresh profile per launch. Every page records its console
 * errors, uncaught exceptions and Content-Security-Policy violations, so a test can assert that a
 * page ran cleanly under the real CSP.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** What went wrong on a page, as seen from inside the browser. */
export interface PageProblems {
  /** console.error messages (including the browser's own, e.g. failed loads and CSP refusals). */
  consoleErrors: string[];
  /** Uncaught exceptions. */
  pageErrors: string[];
  /** `securitypolicyviolation` events: "<directive> <blocked URI>". */
  cspViolations: string[];
}

export interface TestPage {
  page: Page;
  problems: PageProblems;
}

export interface TestBrowser {
  context: BrowserContext;
  /** A new tab that records its problems; `width` sets a phone-sized viewport, for example. */
  newPage(opts?: { width?: number; height?: number }): Promise<TestPage>;
  close(): Promise<void>;
}

// Runs in every document before its own scripts. Playwright injects it over CDP, so the page's
// CSP does not apply to it; it only reports violations, it does not weaken anything.
const REPORT_CSP = `document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp(e.violatedDirective + " " + (e.blockedURI || "inline") + (e.sample ? " " + e.sample : ""));
});`;

/** Launches Chromium with a fresh user-data dir (removed again by `close`). */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "ad-service-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  return {
    context,
    async newPage(opts = {}) {
      const page = await context.newPage();
      if (opts.width) await page.setViewportSize({ width: opts.width, height: opts.height ?? 812 });
      const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [] };
      page.on("console", (m) => {
        if (m.type() === "error") problems.consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => problems.pageErrors.push(String(e)));
      await page.exposeFunction("__reportCsp", (v: string) => problems.cspViolations.push(v));
      await page.addInitScript(REPORT_CSP);
      return { page, problems };
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as tests/artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // caret "initial": hiding the caret makes Playwright inject a style, which the CSP (rightly) reports.
  await page.screenshot({ path, fullPage: true, caret: "initial" });
  return path;
}
