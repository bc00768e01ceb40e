/**
 * The moderation dashboard in headless Chromium, against the compiled binary and the real
 * services: sign in, watch an ad move from pending to accepted without a reload, approve and
 * reject with audit entries and e-mails, bulk actions, a cross-site POST refused, user text
 * rendered inert. Screenshots of the main screens go to tests/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import postgres from "postgres";
import { startBinary, type Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, startTestStack, waitFor } from "../support/stack";
import { launchBrowser, screenshot, type PageProblems, type TestBrowser } from "./browser";

const PASSWORD = "admin-browser-test-pw-0001";
const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let svc: Running;
let browser: TestBrowser;
let page: Page;
let problems: PageProblems;

beforeAll(async () => {
  stack = await startTestStack();
  svc = await startBinary([], { ...stack.env, PORT: "0", LOG_LEVEL: "info", ADMIN_PASSWORD: PASSWORD });
  browser = await launchBrowser();
  ({ page, problems } = await browser.newPage());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await stack?.stop();
}, 30_000);

async function submit(file: string, description: string): Promise<string> {
  const res = await fetch(`${svc.url}/ads`, { method: "POST", body: adForm({ description, email: "poster@example.com", image: photo(file) }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const state = async (id: string) => ((await (await fetch(`${svc.url}/ads/${id}`)).json()) as { state: string }).state;

function expectClean() {
  expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
}

/** Forgets problems seen so far (after a step that is meant to produce one, e.g. a refused login). */
function forgetProblems() {
  problems.consoleErrors.length = 0;
  problems.pageErrors.length = 0;
  problems.cspViolations.length = 0;
}

describe("the dashboard", () => {
  test("a wrong password is refused; the right one signs in", async () => {
    await page.goto(`${svc.url}/admin`);
    expect(page.url()).toEndWith("/admin/login");
    await page.fill("#password", "not the password");
    await page.click("button[type=submit]");
    expect(await page.textContent("[role=alert]")).toContain("Wrong password");
    expect(problems.consoleErrors).toEqual(["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]);
    forgetProblems();
    await page.fill("#password", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/admin$/);
    expect(await page.textContent("h1")).toBe("Ads");
    const cookie = (await browser.context.cookies()).find((c) => c.name === "ad_admin")!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Strict");
    expectClean();
  });

  test("a submitted ad appears in pending and moves to accepted without a reload", async () => {
    stack.imagga.faults.delayMs = 7000;
    const id = await submit("vehicle-bus.jpg", "Double-decker bus, 1998");
    await page.goto(`${svc.url}/admin?state=pending`);
    await page.waitForSelector(`#ad-${id}`);
    const pendingCount = Number(await page.textContent('.count[data-state="pending"]'));
    expect(pendingCount).toBeGreaterThanOrEqual(1);
    await screenshot(page, "admin-queue");
    stack.imagga.faults.delayMs = 0;
    // The rows and counts refresh themselves (every 5 s): the ad leaves the pending tab.
    await page.waitForSelector(`#ad-${id}`, { state: "detached", timeout: 20_000 });
    await page.waitForFunction(() => Number(document.querySelector('.count[data-state="accepted"]')?.textContent) >= 1, null, { timeout: 10_000 });
    await page.click('a.tab-accepted');
    await page.waitForSelector(`#ad-${id}`);
    expectClean();
  }, 40_000);

  test("approving a rejected ad from its page: new state, audit entry, and the e-mail recorded", async () => {
    const id = await submit("none-cat.png", "Cat-shaped car (honest)");
    await waitFor(async () => (await state(id)) === "rejected");
    await page.goto(`${svc.url}/admin/ads/${id}`);
    expect(await page.textContent(".detail-head .badge")).toBe("rejected");
    await screenshot(page, "admin-detail");
    await page.fill("#category", "novelty car");
    await page.click("form.action:has(#category) button");
    await page.waitForSelector(".flash");
    expect(await page.textContent(".flash")).toContain('Approved as "novelty car"');
    expect(await page.textContent(".detail-head .badge")).toBe("accepted");
    expect(await page.textContent(".history")).toContain("operator");
    // The worker sends the override e-mail; the detail shows it as sent once it has.
    await waitFor(() => stack.mailgun.forAd(id).length === 2);
    await page.reload();
    const emails = await page.locator("section:has(#emails-h) tbody tr").allTextContents();
    expect(emails).toHaveLength(2);
    expect(emails[1]).toContain("Your ad was accepted (novelty car)");
    expect(emails[1]).toContain("sent");
    expect(await state(id)).toBe("accepted");
    expectClean();
  });

  test("rejecting with a reason sends it to the poster", async () => {
    const id = await submit("vehicle-car-rear.jpg", "Car, rear view");
    await waitFor(async () => (await state(id)) === "accepted");
    await page.goto(`${svc.url}/admin/ads/${id}`);
    await page.fill("#reason", "The licence plate is visible; please blur it.");
    await page.click("form.action:has(#reason) button");
    await page.waitForSelector(".flash");
    expect(await page.textContent(".detail-head .badge")).toBe("rejected");
    await waitFor(() => stack.mailgun.forAd(id).length === 2);
    expect(stack.mailgun.forAd(id)[1]!.text).toContain("please blur it");
    expect(await state(id)).toBe("rejected");
  });

  test("bulk: select two accepted ads and reject them at once", async () => {
    const a = await submit("vehicle-motorcycle.png", "Bulk bike A");
    const b = await submit("vehicle-motorcycle.png", "Bulk bike B");
    await waitFor(async () => (await state(a)) === "accepted" && (await state(b)) === "accepted");
    await page.goto(`${svc.url}/admin?state=accepted`);
    await page.check(`#ad-${a} input[name=ids]`);
    await page.check(`#ad-${b} input[name=ids]`);
    await page.fill("#bulk-reason", "Duplicate listing");
    await page.click('#bulk button[value="reject"]');
    await page.waitForSelector(".flash");
    expect(await page.textContent(".flash")).toContain("Rejected 2 of 2 selected ads.");
    expect([await state(a), await state(b)]).toEqual(["rejected", "rejected"]);
    expectClean();
  });

  test("user text is rendered as text: nothing executes", async () => {
    const id = await submit("vehicle-bus.jpg", XSS);
    await waitFor(async () => (await state(id)) === "accepted");
    await page.goto(`${svc.url}/admin?state=accepted`);
    await page.waitForSelector(`#ad-${id}`);
    expect(await page.textContent(`#ad-${id} .desc`)).toBe(XSS);
    await page.goto(`${svc.url}/admin/ads/${id}`);
    expect(await page.textContent(".description")).toBe(XSS);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  test("a cross-site POST is refused, with or without the browser's cookie", async () => {
    const id = await submit("vehicle-bus.jpg", "Target of a forged request");
    await waitFor(async () => (await state(id)) === "accepted");
    // A page on another site (localhost vs 127.0.0.1) that posts a rejection form to the dashboard.
    const evil = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(
          `<!doctype html><form id="f" method="post" action="${svc.url}/admin/ads/${id}/reject"><input name="reason" value="pwned"><button>go</button></form>`,
          { headers: { "content-type": "text/html" } },
        ),
    });
    try {
      const other = await browser.newPage();
      await other.page.goto(`http://localhost:${evil.port}/`);
      const [response] = await Promise.all([other.page.waitForResponse((r) => r.url().includes("/reject")), other.page.click("button")]);
      expect([401, 403]).toContain(response.status());
      await other.page.close();
    } finally {
      evil.stop(true);
    }
    // Same site but without the CSRF token (a script that is not htmx): refused too.
    const status = await page.evaluate(async (url) => (await fetch(url, { method: "POST", body: new URLSearchParams({ reason: "pwned" }) })).status, `${svc.url}/admin/ads/${id}/reject`);
    expect(status).toBe(403);
    expect(await state(id)).toBe("accepted");
    forgetProblems(); // the refused fetch logged its 403, as it should
  });

  test("without JavaScript the forms still work: approve from the ad's page, and re-send a failed e-mail from the outbox", async () => {
    const id = await submit("none-cat.png", "Approved without JavaScript");
    await waitFor(async () => (await state(id)) === "rejected");
    await waitFor(() => stack.mailgun.forAd(id).length === 1);
    // A tab that loads no script at all (htmx and admin.js refused), with the signed-in session.
    const noJs = await browser.newPage();
    await noJs.page.route(/\.js(\?|$)/, (r) => r.abort());
    try {
      await noJs.page.goto(`${svc.url}/admin/ads/${id}`);
      await noJs.page.fill("#category", "cat carrier");
      const [approved] = await Promise.all([noJs.page.waitForResponse((r) => r.url().endsWith(`/admin/ads/${id}/approve`)), noJs.page.click("form.action:has(#category) button")]);
      expect(approved.status()).toBe(303); // a plain form POST, its _csrf field accepted; then back to the ad
      await noJs.page.waitForLoadState();
      expect(noJs.page.url()).toBe(`${svc.url}/admin/ads/${id}`);
      expect(await noJs.page.textContent(".detail-head .badge")).toBe("accepted");
      expect(await state(id)).toBe("accepted");
      await waitFor(() => stack.mailgun.forAd(id).length === 2);

      // The approval e-mail bounced (as the worker records a permanent Mailgun failure).
      const sql = postgres(stack.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      try {
        await sql`update emails set status = 'failed', last_error = 'bounced (test)' where ad_id = ${id} and kind = 'accepted'`;
      } finally {
        await sql.end();
      }
      await noJs.page.goto(`${svc.url}/admin/outbox?status=failed`);
      const row = noJs.page.locator("table.outbox tbody tr", { hasText: "Approved without JavaScript" });
      const [resent] = await Promise.all([noJs.page.waitForResponse((r) => r.url().endsWith("/resend")), row.locator("button", { hasText: "Resend" }).click()]);
      expect(resent.status()).toBe(303);
      await noJs.page.waitForLoadState();
      expect(noJs.page.url()).toBe(`${svc.url}/admin/outbox?status=failed`);
      await waitFor(() => stack.mailgun.forAd(id).length === 3);
      expect(stack.mailgun.forAd(id)[2]!.subject).toBe("Your ad was accepted (cat carrier)");
    } finally {
      await noJs.page.close();
    }
  }, 40_000);

  test("a failed e-mail is re-sent from the ad's page (htmx)", async () => {
    const id = await submit("vehicle-car-rear.jpg", "Resend with htmx");
    await waitFor(async () => (await state(id)) === "accepted");
    await waitFor(() => stack.mailgun.forAd(id).length === 1);
    const sql = postgres(stack.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await sql`update emails set status = 'failed', last_error = 'bounced (test)' where ad_id = ${id}`;
    } finally {
      await sql.end();
    }
    await page.goto(`${svc.url}/admin/ads/${id}`);
    await page.click("section:has(#emails-h) button:has-text('Resend')");
    await page.waitForSelector(".flash");
    expect(await page.textContent(".flash")).toContain("E-mail queued again");
    expect(page.url()).toBe(`${svc.url}/admin/ads/${id}`);
    await waitFor(() => stack.mailgun.forAd(id).length === 2);
    expect(stack.mailgun.forAd(id).map((m) => m.subject)).toEqual(["Your ad was accepted (car)", "Your ad was accepted (car)"]);
    expectClean();
  }, 30_000);

  test("overview and outbox", async () => {
    await page.goto(`${svc.url}/admin/overview`);
    expect(await page.locator("svg.chart").count()).toBe(2);
    await screenshot(page, "admin-overview");
    await page.goto(`${svc.url}/admin/outbox`);
    expect(await page.locator("table.outbox tbody tr").count()).toBeGreaterThanOrEqual(4);
    await screenshot(page, "admin-outbox");
    expectClean();
  });

  test("signing out ends the session", async () => {
    await page.goto(`${svc.url}/admin`);
    await page.click("header .logout button");
    await page.waitForURL(/\/admin\/login/);
    await page.goto(`${svc.url}/admin`);
    expect(page.url()).toContain("/admin/login");
  });
});
