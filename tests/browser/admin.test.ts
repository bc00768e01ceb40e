/**
 * The moderation dashboard in headless Chromium, against the compiled binary and the real
 * services: sign in, watch an ad move from pending to accepted without a reload, approve and
 * reject with audit entries and e-mails, bulk actions, a cross-site POST refused, user text
 * rendered inert; then a team: the admin adds operators, two operators in two browsers decide
 * different ads at once and each is named, and the dashboard in Persian (right to left, Solar
 * Hijri dates, no English left on its pages). Screenshots of the main screens go to
 * tests/artifacts/.
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
    expect(await page.textContent("[role=alert]")).toContain("Wrong name or password");
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
    expect(await page.textContent(".flash")).toContain("Approved as “novelty car”");
    expect(await page.textContent(".detail-head .badge")).toBe("accepted");
    expect(await page.textContent(".history")).toContain("admin"); // the bootstrap operator ADMIN_PASSWORD signs in as
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

// ---- a team of operators, in Persian and English ----

/** Elements whose text is data in its own direction (descriptions, e-mails, ids, names, tags, provider ids), not the dashboard's words. */
const USER_DATA = '[dir="ltr"], [dir="auto"], bdi, code, script, style, title, option, textarea';
/** Latin words a Persian page may show: the product's name and technical names. */
const ALLOWED_LATIN = ["ad-service", "CSRF", "UTC", "ID", "Mailgun", "Imagga"];

/** What a person reads on the page (visible text, placeholders, labels, tooltips, the title), minus user data. */
function uiText(p: Page): Promise<string> {
  return p.evaluate((excluded) => {
    const out: string[] = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (el && !el.closest(excluded) && el.checkVisibility()) out.push(n.textContent ?? "");
    }
    document.querySelectorAll("[placeholder], [aria-label], [alt], [title]").forEach((el) => {
      if (el.closest(excluded) || el.closest("svg")) return;
      for (const a of ["placeholder", "aria-label", "alt", "title"]) out.push(el.getAttribute(a) ?? "");
    });
    return out.join("\n");
  }, USER_DATA);
}

/** Runs of three or more Latin letters left on a page once user data and the allowed names are taken out. */
async function englishLeft(p: Page): Promise<string[]> {
  let text = await uiText(p);
  for (const w of ALLOWED_LATIN) text = text.split(w).join(" ");
  return text.match(/[A-Za-z]{3,}/g) ?? [];
}

const PERSIAN_MONTH = /(فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند)/;

async function signInOn(p: Page, name: string, password: string): Promise<void> {
  await p.goto(`${svc.url}/admin/login`);
  await p.fill("#name", name);
  await p.fill("#password", password);
  await p.click("button[type=submit]");
  await p.waitForURL(/\/admin$/);
}

describe("a team of operators, in Persian and English", () => {
  const passwords: Record<string, string> = {};
  let sara: { browser: TestBrowser; page: Page; problems: PageProblems };
  let omid: { browser: TestBrowser; page: Page; problems: PageProblems };
  let decided: { x: string; y: string };

  afterAll(async () => {
    await sara?.browser.close();
    await omid?.browser.close();
  });

  test("the admin adds operators on the operators page; each password is shown once", async () => {
    await signInOn(page, "", PASSWORD); // the bootstrap admin, with only ADMIN_PASSWORD
    await page.click('header nav a[href="/admin/operators"]');
    await page.waitForURL(/\/admin\/operators$/);
    for (const [name, lang] of [["sara", "fa"], ["omid", "en"]] as const) {
      await page.fill("#op-name", name);
      await page.selectOption("#op-role", "operator");
      await page.selectOption("#op-lang", lang);
      await page.click("form.add-operator button[type=submit]");
      await page.waitForSelector(`.secret:has-text("${name}")`);
      passwords[name] = (await page.textContent(".secret .password"))!.trim();
      expect(passwords[name]!.length).toBeGreaterThanOrEqual(20);
    }
    const rows = await page.locator("table.operators tbody tr").allTextContents();
    expect(rows.some((r) => r.includes("sara") && r.includes("Persian") && r.includes("operator") && r.includes("active"))).toBe(true);
    await screenshot(page, "admin-operators-en");
    await page.reload();
    expect(await page.locator(".secret").count()).toBe(0); // shown once
    expectClean();
  });

  test("two operators in two browsers decide different ads at once; the history and the queue name each of them", async () => {
    const open = async (name: string) => {
      const browser = await launchBrowser();
      const { page: p, problems: pr } = await browser.newPage();
      await signInOn(p, name, passwords[name]!);
      return { browser, page: p, problems: pr };
    };
    [sara, omid] = await Promise.all([open("sara"), open("omid")]);
    expect(await sara.page.getAttribute("html", "dir")).toBe("rtl");
    expect(await omid.page.getAttribute("html", "dir")).toBe("ltr");
    const x = await submit("none-cat.png", "كيا پرايد ۱۳۹۸، تمیز");
    const y = await submit("vehicle-car-rear.jpg", "Peugeot 206, 2019, one owner");
    await waitFor(async () => (await state(x)) === "rejected" && (await state(y)) === "accepted");
    decided = { x, y };
    await Promise.all([
      (async () => {
        await sara.page.goto(`${svc.url}/admin/ads/${x}`);
        await sara.page.fill("#category", "car");
        await sara.page.click("form.action:has(#category) button");
        await sara.page.waitForSelector(".flash");
      })(),
      (async () => {
        await omid.page.goto(`${svc.url}/admin/ads/${y}`);
        await omid.page.fill("#reason", "Sold already, sorry.");
        await omid.page.click("form.action:has(#reason) button");
        await omid.page.waitForSelector(".flash");
      })(),
    ]);
    expect([await state(x), await state(y)]).toEqual(["accepted", "rejected"]);
    // Each one's page names them in the decision and the last history entry.
    expect(await sara.page.textContent(".history li:last-child .operator-name")).toBe("sara");
    expect(await omid.page.textContent(".history li:last-child .operator-name")).toBe("omid");
    expect(await omid.page.textContent(".history li:last-child")).toContain("Sold already, sorry.");
    // Each sees the other's decision in the queue, under the other's name.
    await omid.page.goto(`${svc.url}/admin?state=accepted`);
    expect(await omid.page.textContent(`#ad-${x} .decided-by`)).toBe("by sara");
    await sara.page.goto(`${svc.url}/admin?state=rejected`);
    expect(await sara.page.textContent(`#ad-${y} .decided-by .operator-name`)).toBe("omid");
    // The database agrees.
    const sql = postgres(stack.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ id: string; decided_by: string; actor: string }[]>`
        select a.id, a.decided_by, (select actor from ad_events e where e.ad_id = a.id order by e.id desc limit 1) as actor from ads a where a.id in (${x}, ${y})`;
      expect(Object.fromEntries(rows.map((r) => [r.id, `${r.decided_by}/${r.actor}`]))).toEqual({ [x]: "sara/sara", [y]: "omid/omid" });
    } finally {
      await sql.end();
    }
    // Persian search on the Persian page: Persian letters and digits find the Arabic-typed ad.
    await sara.page.goto(`${svc.url}/admin?state=accepted`);
    await sara.page.fill("#q", "کیا پراید 1398");
    await sara.page.click("form.search button");
    await sara.page.waitForSelector(`#ad-${x}`);
    expect(await sara.page.locator("table.ads tbody tr").count()).toBe(1);
    expect(sara.problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
    expect(omid.problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
  }, 60_000);

  test("the dashboard in Persian: right to left, Solar Hijri dates, no English left on the queue, an ad, the overview, the outbox and the operators page", async () => {
    const p = sara.page;
    const pages = [
      ["/admin?state=accepted", "admin-queue-fa"],
      [`/admin/ads/${decided.x}`, "admin-detail-fa"],
      [`/admin/ads/${decided.y}`, null],
      ["/admin?state=rejected", null],
      ["/admin/overview", null],
      ["/admin/outbox", null],
      ["/admin/account", null],
    ] as const;
    for (const [path, shot] of pages) {
      await p.goto(`${svc.url}${path}`);
      expect([path, await p.getAttribute("html", "lang"), await p.getAttribute("html", "dir")]).toEqual([path, "fa", "rtl"]);
      expect([path, await englishLeft(p)]).toEqual([path, []]);
      if (shot) await screenshot(p, shot);
    }
    // Dates on the ad's page: Solar Hijri months, Persian digits, the year 14xx.
    await p.goto(`${svc.url}/admin/ads/${decided.x}`);
    const dates = await p.locator("time.date").allTextContents();
    expect(dates.length).toBeGreaterThanOrEqual(3);
    for (const d of dates) {
      expect(d).toMatch(PERSIAN_MONTH);
      expect(d).toMatch(/۱۴[۰-۹]{2}/);
      expect(d).not.toMatch(/[0-9]/);
    }
    expect(await p.textContent(".history")).toContain("بررسی خودکار");
    // The Persian font is the page's font.
    expect(await p.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain("Vazirmatn");
    // An operator (not an admin) is refused the operators page, in Persian.
    const refused = await p.goto(`${svc.url}/admin/operators`);
    expect(refused!.status()).toBe(403);
    expect(await p.textContent("[role=alert]")).toBe("فقط مدیران می‌توانند اپراتورها را مدیریت کنند.");
    sara.problems.consoleErrors.splice(0); // the refused page logged its 403, as it should
    expect(sara.problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });

    // The admin's operators page in Persian (?lang=fa overrides their preference), then the English queue.
    await page.goto(`${svc.url}/admin/operators?lang=fa`);
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    expect(await englishLeft(page)).toEqual([]);
    await screenshot(page, "admin-operators-fa");
    await page.goto(`${svc.url}/admin?state=accepted`);
    expect(await page.getAttribute("html", "lang")).toBe("en");
    expect(await page.textContent("h1")).toBe("Ads");
    await screenshot(page, "admin-queue-en");
    expectClean();
  }, 60_000);
});
