/**
 * Persian and English on the public side, in a real browser (headless Chromium) against the
 * compiled binary with the real PostgreSQL, RabbitMQ and Ceph RGW and the Imagga/Mailgun doubles:
 * the same journey (home page, submit, pending, accepted) in both languages with the right
 * `<html lang dir>`, no English left on a Persian page, Solar Hijri dates and Persian digits,
 * the poster's text in its own direction, the language choice (Accept-Language, `?lang=`, the
 * cookie, the switch), the API's messages, the embedded font and its licence, and description
 * lengths counted in characters. Screenshots go to tests/artifacts/ (public-*-fa.png, -en.png).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import postgres from "postgres";
import { categoryLabel, t, type Lang } from "../../src/i18n";
import { formatDate } from "../../src/i18n/format";
import { FIXTURES_DIR, withSlowImagga } from "../doubles/imagga";
import { ROOT, startBinary, type Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, startTestStack, waitFor } from "../support/stack";
import { launchBrowser, screenshot, type PageProblems, type TestBrowser } from "./browser";

const POSTER = "poster.i18n@example.com";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const UUIDS = new RegExp(UUID.source, "g");
const ACCEPT_LANGUAGE: Record<Lang, string> = { fa: "fa-IR,fa;q=0.9,en;q=0.5", en: "en-GB,en;q=0.9" };
const PERSIAN = /[\u0600-\u06FF]/;

/**
 * Latin words allowed on a Persian page: format names, the API's name, and the language switch
 * naming English in English. Everything else a person reads must be Persian.
 */
const LATIN_ALLOWED = new Set(["JPEG", "PNG", "WebP", "GIF", "API", "English"]);

/**
 * The photo and its category per language for the journey. Every ad that must be accepted here
 * has a photo of its own: a photo posted again is held for an operator as a possible re-post.
 */
const JOURNEY: Record<Lang, { file: string; category: string; label: Record<Lang, string> }> = {
  fa: { file: "vehicle-car-rear.jpg", category: "car", label: { fa: "خودرو", en: "car" } },
  en: { file: "vehicle-motorcycle.png", category: "motorcycle", label: { fa: "موتورسیکلت", en: "motorcycle" } },
};

/** Tags that make the Imagga double call any photo a car (for more distinct accepted photos). */
const CAR_TAGS = [
  { tag: "car", confidence: 100 },
  { tag: "vehicle", confidence: 80 },
];

/** A description per language for the journey: the Persian one mixes directions and digit sets. */
const DESCRIPTIONS: Record<Lang, string> = {
  fa: "Peugeot 206 مدل ۱۳۹۸ تمیز\nبیمه تا آخر سال، بدون رنگ. تماس: 0912 000 0000",
  en: "Estate car, 2014, full service history.\nOne owner.",
};

let stack: Awaited<ReturnType<typeof startTestStack>>;
let svc: Running;
let browser: TestBrowser;
let sql: ReturnType<typeof postgres>;

beforeAll(async () => {
  stack = await startTestStack();
  svc = await startBinary([], { ...stack.env, PORT: "0", LOG_LEVEL: "info" });
  browser = await launchBrowser();
  sql = postgres(stack.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await browser?.close();
  await svc?.stop();
  await stack?.stop();
}, 30_000);

// The browser profile is shared: every test starts without a remembered language.
beforeEach(async () => {
  await browser.context.clearCookies();
});

function expectClean(problems: PageProblems, allowedConsole: RegExp | null = null) {
  expect(problems.consoleErrors.filter((m) => !allowedConsole || !allowedConsole.test(m))).toEqual([]);
  expect(problems.pageErrors).toEqual([]);
  expect(problems.cspViolations).toEqual([]);
}

/**
 * A tab whose requests (navigations, and htmx's) carry this Accept-Language, as a browser set to
 * that language sends it. (Chromium replaces an Accept-Language given as an extra header with its
 * own, so the tab's network settings are overridden over CDP instead.)
 */
async function pageIn(lang: Lang, opts: { width?: number } = {}) {
  const p = await browser.newPage(opts);
  const cdp = await browser.context.newCDPSession(p.page);
  const userAgent = await p.page.evaluate(() => navigator.userAgent);
  await cdp.send("Network.enable");
  await cdp.send("Network.setUserAgentOverride", { userAgent, acceptLanguage: ACCEPT_LANGUAGE[lang] });
  return p;
}

async function htmlAttrs(page: Page) {
  return page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
}

/**
 * The words of three or more Latin letters a person can read on the page (document.body.innerText),
 * once the user's own data (`userData`: descriptions, e-mail addresses), ids and URLs are taken
 * out and the allow-list is applied. Empty on a page that is all Persian.
 */
async function latinWords(page: Page, userData: string[] = []): Promise<string[]> {
  let text = await page.evaluate(() => document.body.innerText);
  for (const d of userData) text = text.split(d).join(" ");
  text = text.replace(UUIDS, " ").replace(/https?:\/\/\S+/g, " ").replace(/\S+@\S+/g, " ");
  return (text.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => !LATIN_ALLOWED.has(w));
}

/** ASCII digits left on a Persian page once user data, ids and URLs are taken out (the chrome uses ۰-۹). */
async function asciiDigits(page: Page, userData: string[] = []): Promise<string[]> {
  let text = await page.evaluate(() => document.body.innerText);
  for (const d of userData) text = text.split(d).join(" ");
  return text.replace(UUIDS, " ").replace(/https?:\/\/\S+/g, " ").match(/[0-9]+/g) ?? [];
}

/** Both checks of a Persian page at once, so a failure lists everything that is left. */
async function expectAllPersian(page: Page, userData: string[] = []) {
  expect({ latin: await latinWords(page, userData), digits: await asciiDigits(page, userData) }).toEqual({ latin: [], digits: [] });
}

async function htmxReady(page: Page) {
  await page.waitForFunction(() => typeof (window as unknown as { htmx?: unknown }).htmx === "object");
}

async function postAd(page: Page, fields: { description: string; email: string; file: string }) {
  await page.fill("#description", fields.description);
  await page.fill("#email", fields.email);
  await page.setInputFiles("#image", join(FIXTURES_DIR, fields.file));
  await page.click("#ad-form button[type=submit]");
}

/** Submits an ad over the JSON API (in `lang`); returns its id. */
async function postAdJson(description: string, file: string, lang: Lang = "en"): Promise<string> {
  const res = await fetch(`${svc.url}/ads`, {
    method: "POST",
    headers: { "accept-language": ACCEPT_LANGUAGE[lang] },
    body: adForm({ description, email: POSTER, image: photo(file) }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function waitAccepted(id: string) {
  const accepted = await waitFor(async () => ((await (await fetch(`${svc.url}/ads/${id}`)).json()) as { state: string }).state === "accepted");
  expect(accepted).toBe(true);
}

/** The left (or right) edge of the first box of each of `words` in the element's text, in CSS pixels. */
async function wordPositions(page: Page, selector: string, words: string[], edge: "left" | "right" = "left"): Promise<number[]> {
  return page.$eval(
    selector,
    (el, [ws, side]) => {
      const node = el.firstChild as Text;
      return (ws as string[]).map((w) => {
        const i = node.data.indexOf(w);
        if (i < 0) return Number.NaN;
        const r = document.createRange();
        r.setStart(node, i);
        r.setEnd(node, i + w.length);
        return r.getClientRects()[0]![side as "left" | "right"];
      });
    },
    [words, edge] as const,
  );
}

describe("the journey in each language: home, submit, pending, accepted", () => {
  for (const lang of ["fa", "en"] as const) {
    test(`${lang}: <html lang dir>, every string from the ${lang} catalogue, dates and categories in ${lang}`, async () => {
      const c = t(lang);
      const expected = { lang, dir: lang === "fa" ? "rtl" : "ltr" };
      const description = DESCRIPTIONS[lang];
      const { page, problems } = await pageIn(lang);
      await page.goto(`${svc.url}/`);
      await htmxReady(page);

      // Home page.
      expect(await htmlAttrs(page)).toEqual(expected);
      expect(await page.title()).toBe(c.common.pageTitle(c.post.pageTitle));
      expect(await page.textContent("h1")).toBe(c.post.heading);
      expect(await page.textContent("#description-hint")).toBe(c.post.descriptionHint(5000));
      expect(await page.getAttribute("#description", "dir")).toBe("auto");
      expect(await page.getAttribute("#email", "dir")).toBe("ltr");
      // The switch offers the other language, on this same page.
      const other = lang === "fa" ? "en" : "fa";
      expect(await page.getAttribute(".lang-switch a", "href")).toBe(`/?lang=${other}`);
      expect(await page.getAttribute(".lang-switch a", "lang")).toBe(other);
      expect(await page.locator("[style], script:not([src]), [hx-on], [onclick]").count()).toBe(0);
      if (lang === "fa") await expectAllPersian(page);
      await screenshot(page, `public-home-${lang}`);

      await withSlowImagga(stack.imagga, 4000, async () => {
        // The submit result (htmx swaps it in for the form).
        await postAd(page, { description, email: POSTER, file: JOURNEY[lang].file });
        const notice = page.locator(".notice-success");
        await notice.waitFor();
        const id = ((await notice.textContent()) ?? "").match(UUID)![0];
        expect(await htmlAttrs(page)).toEqual(expected);
        expect(await page.textContent(".notice-success h2")).toBe(c.post.success.heading);
        expect(await page.textContent(".registered")).toBe(c.status.registered(id));
        // The id sits in the sentence isolated and left to right.
        expect(await page.textContent(".registered bdi.ad-id[dir=ltr]")).toBe(id);
        // The "follow" arrow points along the reading direction: mirrored on the Persian page.
        const transform = await page.$eval(".notice-success .icon-arrow", (el) => getComputedStyle(el).transform);
        expect(transform).toBe(lang === "fa" ? "matrix(-1, 0, 0, 1, 0, 0)" : "none");
        if (lang === "fa") await expectAllPersian(page, [description, POSTER]);
        await screenshot(page, `public-submit-${lang}`);

        // The pending status page.
        await Promise.all([page.waitForURL(`**/ads/${id}`), page.click(`.notice-success a[href="/ads/${id}"]`)]);
        expect(await htmlAttrs(page)).toEqual(expected);
        expect(await page.textContent("#ad-status h1")).toBe(c.status.pending);
        expect(await page.textContent(".badge-pending")).toBe(c.status.badge.pending);
        const posted = await page.$eval("#ad-status time", (el) => ({ text: el.textContent, iso: el.getAttribute("datetime")! }));
        expect(posted.text).toBe(formatDate(lang, posted.iso));
        if (lang === "fa") {
          // Solar Hijri (the year is 14xx, not 20xx) in Persian digits.
          expect(posted.text).toMatch(/۱۴[۰-۹]{2}/);
          expect(posted.text).not.toMatch(/[0-9]/);
          await expectAllPersian(page);
        }
        await screenshot(page, `public-ad-pending-${lang}`);

        // Accepted, swapped in by the polling fragment, still in the page's language.
        await page.locator("#ad-status.status-accepted").waitFor({ timeout: 15_000 });
        expect(await page.textContent(".badge-accepted")).toBe(c.status.accepted);
        expect(await page.textContent("#ad-status h1")).toBe(c.ad.heading);
      });

      // A fresh load of the accepted ad's page.
      await page.reload();
      await page.waitForFunction(() => document.querySelector<HTMLImageElement>(".photo img")?.complete === true);
      expect(await htmlAttrs(page)).toEqual(expected);
      const { category, label } = JOURNEY[lang];
      expect(await page.title()).toBe(c.common.pageTitle(c.ad.pageTitle(label[lang])));
      // The category is shown translated; the stored tag stays the tagger's English word.
      expect((await page.textContent(".category"))?.trim()).toBe(label[lang]);
      expect(await page.getAttribute(".category", "data-category")).toBe(category);
      expect(await page.getAttribute(".photo img", "alt")).toBe(c.ad.photoAlt(label[lang]));
      // The poster's text, exactly, in an element that takes its own direction.
      expect(await page.textContent(".description")).toBe(description);
      expect(await page.getAttribute(".description", "dir")).toBe("auto");
      expect(await page.getAttribute("code.ad-id", "dir")).toBe("ltr");
      if (lang === "fa") {
        // Each line of the poster's text takes its own direction: the Latin-first line starts at
        // the left, the Persian line under it at the right.
        const box = await page.$eval(".description", (el) => el.getBoundingClientRect().toJSON() as DOMRect);
        const [peugeot, insurance] = await wordPositions(page, ".description", ["Peugeot", "بیمه"], "right");
        expect(peugeot! - box.left).toBeLessThan(box.width / 2);
        expect(Math.abs(box.right - insurance!)).toBeLessThan(2);
      }
      for (const time of await page.$$eval("#ad-status time", (els) => els.map((el) => ({ text: el.textContent, iso: el.getAttribute("datetime")! }))))
        expect(time.text).toBe(formatDate(lang, time.iso));
      expect(await page.content()).not.toContain(POSTER);
      if (lang === "fa") await expectAllPersian(page, [description]);
      await screenshot(page, `public-ad-accepted-${lang}`);
      expectClean(problems);

      // Usable at 375 px in both directions: nothing wider than the screen.
      const phone = await pageIn(lang, { width: 375 });
      await phone.page.goto(page.url());
      await phone.page.waitForFunction(() => document.querySelector<HTMLImageElement>(".photo img")?.complete === true);
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await screenshot(phone.page, `public-ad-accepted-phone-${lang}`);
      expectClean(phone.problems);
      await Promise.all([page.close(), phone.page.close()]);
    }, 60_000);
  }

  test("fa: the refusals a poster can meet are Persian too (a bad e-mail next to the form, the 404 page, the no-JS result page)", async () => {
    const fa = t("fa");
    const { page, problems } = await pageIn("fa");
    await page.goto(`${svc.url}/`);
    await htmxReady(page);
    await page.$eval("#ad-form", (f) => ((f as HTMLFormElement).noValidate = true));
    await postAd(page, { description: "وانت نیسان", email: "a@b.co, c@d.co", file: "vehicle-bus.jpg" });
    const error = page.locator("#form-message .notice-error");
    await error.waitFor();
    expect(await page.textContent("#form-message .error-message")).toBe(fa.errors.emailInvalid);
    await expectAllPersian(page, ["وانت نیسان", "a@b.co, c@d.co"]);
    await screenshot(page, "public-home-error-fa");

    const res = await page.goto(`${svc.url}/ads/${crypto.randomUUID()}`);
    expect(res?.status()).toBe(404);
    expect(await htmlAttrs(page)).toEqual({ lang: "fa", dir: "rtl" });
    expect(await page.textContent("h1")).toBe(fa.ad.notFound.heading);
    await expectAllPersian(page);

    // Without htmx: the whole result page.
    await page.route("**/assets/htmx.min.js*", (r) => r.abort());
    await page.goto(`${svc.url}/`);
    await page.$eval("#ad-form", (f) => ((f as HTMLFormElement).noValidate = true));
    const [bad] = await Promise.all([page.waitForNavigation(), postAd(page, { description: "وانت نیسان", email: "not-an-address", file: "vehicle-bus.jpg" })]);
    expect(bad?.status()).toBe(422);
    expect(await page.textContent("h1")).toBe(fa.post.result.notPostedHeading);
    await expectAllPersian(page, ["وانت نیسان"]);
    expectClean(problems, /status of 4(04|22)|ERR_FAILED/);
    await page.close();
  }, 30_000);
});

describe("the poster's text keeps its own direction", () => {
  test("an English description on a Persian page is LTR, a Persian one on an English page RTL, a mixed one in order", async () => {
    const english = "Blue hatchback, 2016, 80000 km";
    const persian = "پژو 206 مدل ۱۳۹۸، تمیز";
    const mixed = "Peugeot 206 مدل ۱۳۹۸ تمیز";
    stack.imagga.setTags(photo("none-fruits.jpg"), CAR_TAGS);
    stack.imagga.setTags(photo("none-coffee.png"), CAR_TAGS);
    const ids = {
      english: await postAdJson(english, "vehicle-boats-harbour.jpg"),
      persian: await postAdJson(persian, "none-fruits.jpg", "fa"),
      mixed: await postAdJson(mixed, "none-coffee.png", "fa"),
    };
    for (const id of Object.values(ids)) await waitAccepted(id);

    const fa = await pageIn("fa");
    await fa.page.goto(`${svc.url}/ads/${ids.english}`);
    expect(await htmlAttrs(fa.page)).toEqual({ lang: "fa", dir: "rtl" });
    expect(await fa.page.textContent(".description")).toBe(english);
    expect(await fa.page.$eval(".description", (el) => getComputedStyle(el).direction)).toBe("ltr");
    // The page around it stays right to left.
    expect(await fa.page.$eval("#ad-status h1", (el) => getComputedStyle(el).direction)).toBe("rtl");
    await screenshot(fa.page, "public-ad-english-on-fa");

    // Mixed, Latin first: its own direction is LTR, so "Peugeot 206" comes first, on the left, and
    // the Persian words after it read right to left ("تمیز" left of "مدل"). Inheriting the page's
    // RTL would put "Peugeot" to the right of the Persian words.
    await fa.page.goto(`${svc.url}/ads/${ids.mixed}`);
    expect(await fa.page.textContent(".description")).toBe(mixed);
    expect(await fa.page.getAttribute(".description", "dir")).toBe("auto");
    expect(await fa.page.$eval(".description", (el) => getComputedStyle(el).direction)).toBe("ltr");
    const [peugeot, model, clean] = await wordPositions(fa.page, ".description", ["Peugeot", "مدل", "تمیز"]);
    expect(peugeot!).toBeLessThan(clean!);
    expect(clean!).toBeLessThan(model!);
    expectClean(fa.problems);
    await fa.page.close();

    const en = await pageIn("en");
    await en.page.goto(`${svc.url}/ads/${ids.persian}`);
    expect(await htmlAttrs(en.page)).toEqual({ lang: "en", dir: "ltr" });
    expect(await en.page.textContent(".description")).toBe(persian);
    expect(await en.page.$eval(".description", (el) => getComputedStyle(el).direction)).toBe("rtl");
    // Right to left: the first word is the rightmost, the number in the middle, the last word leftmost.
    const [peugeotFa, number, last] = await wordPositions(en.page, ".description", ["پژو", "206", "تمیز"]);
    expect(peugeotFa!).toBeGreaterThan(number!);
    expect(number!).toBeGreaterThan(last!);
    await screenshot(en.page, "public-ad-persian-on-en");
    expectClean(en.problems);
    await en.page.close();
  }, 40_000);
});

describe("choosing the language", () => {
  test("Accept-Language fa-IR gives Persian with no cookie; ?lang=en overrides and is remembered; the cookie then beats Accept-Language; the switch returns to the same page", async () => {
    const id = await postAdJson("Green tractor", "none-building.jpg");
    const { page, problems } = await pageIn("fa");
    await page.goto(`${svc.url}/`);
    expect(await htmlAttrs(page)).toEqual({ lang: "fa", dir: "rtl" });
    expect(await browser.context.cookies()).toEqual([]);

    // ?lang=en: English, and the choice is stored in the cookie.
    await page.goto(`${svc.url}/ads/${id}?lang=en`);
    expect(await htmlAttrs(page)).toEqual({ lang: "en", dir: "ltr" });
    const [cookie] = await browser.context.cookies();
    expect(cookie).toMatchObject({ name: "lang", value: "en", path: "/", sameSite: "Lax", httpOnly: true });
    const year = Date.now() / 1000 + 365 * 24 * 3600;
    expect(Math.abs(cookie!.expires - year)).toBeLessThan(120);

    // The cookie now wins over the browser's Persian Accept-Language, on every page.
    await page.goto(`${svc.url}/`);
    expect(await htmlAttrs(page)).toEqual({ lang: "en", dir: "ltr" });
    expect(await page.textContent("h1")).toBe(t("en").post.heading);

    // The switch: a link to the same page in the other language, which sets the cookie.
    await page.goto(`${svc.url}/ads/${id}`);
    const link = page.locator(".lang-switch a[hreflang=fa]");
    expect(await link.textContent()).toBe("فارسی");
    await Promise.all([page.waitForURL(`**/ads/${id}?lang=fa`), link.click()]);
    expect(await htmlAttrs(page)).toEqual({ lang: "fa", dir: "rtl" });
    expect(await page.locator("#ad-status").count()).toBe(1);
    expect((await browser.context.cookies()).find((c) => c.name === "lang")?.value).toBe("fa");
    // And back, from a page without ?lang= once the cookie says fa.
    await page.goto(`${svc.url}/ads/${id}`);
    expect(await htmlAttrs(page)).toEqual({ lang: "fa", dir: "rtl" });
    await Promise.all([page.waitForURL(`**/ads/${id}?lang=en`), page.click(".lang-switch a[hreflang=en]")]);
    expect(await htmlAttrs(page)).toEqual({ lang: "en", dir: "ltr" });
    expectClean(problems);
    await page.close();
  }, 30_000);

  test("the switch's link never leaves the site, and an unknown ?lang= is ignored", async () => {
    const html = await (await fetch(`${svc.url}//evil.example/x?lang=xx`, { headers: { accept: "text/html", "accept-language": "fa" } })).text();
    expect(html).toContain('<html lang="fa" dir="rtl">');
    const href = /class="lang-switch"[^>]*><a href="([^"]+)"/.exec(html)?.[1];
    expect(href).toBe("/evil.example/x?lang=en");
    const res = await fetch(`${svc.url}/?lang=xx`, { headers: { accept: "text/html" } });
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("the API's messages follow Accept-Language; codes and fields do not", () => {
  test("a bad e-mail: 422 invalid_email with a Persian message for fa, the unchanged English one without the header", async () => {
    const form = () => adForm({ description: "پراید ۱۱۱", email: "nope", image: photo("vehicle-bus.jpg") });
    const fa = await fetch(`${svc.url}/ads`, { method: "POST", headers: { "accept-language": "fa-IR,fa;q=0.9" }, body: form() });
    expect(fa.status).toBe(422);
    const faBody = (await fa.json()) as { error: { code: string; message: string } };
    expect(faBody).toEqual({ error: { code: "invalid_email", message: t("fa").errors.emailInvalid } });
    expect(faBody.error.message).toMatch(PERSIAN);
    expect(fa.headers.get("vary")).toContain("Accept-Language");

    const en = await fetch(`${svc.url}/ads`, { method: "POST", body: form() });
    expect(await en.json()).toEqual({ error: { code: "invalid_email", message: "email must be one valid e-mail address" } });
    // ?lang= beats the header.
    const chosen = await fetch(`${svc.url}/ads?lang=en`, { method: "POST", headers: { "accept-language": "fa" }, body: form() });
    expect(((await chosen.json()) as { error: { message: string } }).error.message).toBe("email must be one valid e-mail address");
  });

  test("posted in Persian: a Persian 201 message, the ad stored with lang=fa, the e-mail in Persian; its status in the reader's language", async () => {
    const res = await fetch(`${svc.url}/ads`, {
      method: "POST",
      headers: { "accept-language": "fa-IR" },
      body: adForm({ description: "سمند سفید ۱۳۹۵", email: POSTER, image: photo("vehicle-bus.jpg") }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; state: string; message: string };
    expect(body).toEqual({ id: body.id, state: "pending", message: t("fa").status.registered(body.id) });
    const [row] = await sql<{ lang: string }[]>`select lang from ads where id = ${body.id}`;
    expect(row?.lang).toBe("fa");

    await waitAccepted(body.id);
    const mail = await waitFor(() => stack.mailgun.forAd(body.id)[0]);
    expect(mail?.subject).toBe(t("fa").email.acceptedSubject(categoryLabel("fa", "bus")));
    expect(mail?.subject).toContain("اتوبوس");

    const status = async (headers: Record<string, string>) => ((await (await fetch(`${svc.url}/ads/${body.id}`, { headers })).json()) as { message: string; category: string });
    expect(await status({ "accept-language": "fa" })).toMatchObject({ message: t("fa").status.accepted, category: "bus" });
    expect(await status({})).toMatchObject({ message: "Your ad was approved", category: "bus" });
    const missing = await fetch(`${svc.url}/ads/${crypto.randomUUID()}`, { headers: { "accept-language": "fa" } });
    expect(await missing.json()).toEqual({ error: { code: "not_found", message: t("fa").errors.adNotFound } });
  }, 30_000);
});

describe("the Persian web font", () => {
  test("served from the binary with a year's cache, its licence beside it, used by Persian pages under the CSP", async () => {
    const font = await fetch(`${svc.url}/assets/fonts/vazirmatn.woff2`);
    expect(font.status).toBe(200);
    expect(font.headers.get("content-type")).toBe("font/woff2");
    expect(font.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const bytes = new Uint8Array(await font.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("wOF2");
    expect(Buffer.from(bytes).equals(readFileSync(join(ROOT, "node_modules/vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2")))).toBe(true);

    const licence = await fetch(`${svc.url}/assets/fonts/OFL.txt`);
    expect(licence.status).toBe(200);
    expect(licence.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const text = await licence.text();
    expect(text).toContain("SIL Open Font License");
    expect(text).toBe(readFileSync(join(ROOT, "docs/licences/vazirmatn-OFL.txt"), "utf8"));
    expect((await fetch(`${svc.url}/assets/fonts/nope.woff2`)).status).toBe(404);

    const { page, problems } = await pageIn("fa");
    await page.goto(`${svc.url}/`);
    const loaded = await page.evaluate(async () => {
      await document.fonts.ready;
      await document.fonts.load("16px Vazirmatn", "آگهی");
      const faces: FontFace[] = [];
      document.fonts.forEach((f) => faces.push(f));
      return faces.filter((f) => f.family.replace(/"/g, "") === "Vazirmatn").map((f) => f.status);
    });
    expect(loaded).toContain("loaded");
    expect(await page.$eval("body", (el) => getComputedStyle(el).fontFamily)).toMatch(/^"?Vazirmatn"?,/);
    expectClean(problems);
    await page.close();
  });
});

describe("Persian text is first-class data", () => {
  const post = (description: string) =>
    fetch(`${svc.url}/ads`, { method: "POST", headers: { "accept-language": "fa" }, body: adForm({ description, email: POSTER, image: photo("vehicle-bus.jpg") }) });

  test("the description limit is 5000 characters, not bytes or UTF-16 units", async () => {
    const words = "خودروی تمیز با بیمه ";
    const text = (n: number) => (words.repeat(Math.ceil(n / words.length) + 1).slice(0, n - 1) + "ی").normalize("NFC");
    expect(text(5000)).toHaveLength(5000);
    expect(new TextEncoder().encode(text(5000)).length).toBeGreaterThan(9000); // ~2 bytes a letter in UTF-8
    expect((await post(text(5000))).status).toBe(201);
    const over = await post(text(5001));
    expect(over.status).toBe(422);
    expect(await over.json()).toEqual({ error: { code: "invalid_description", message: t("fa").errors.descriptionTooLong(5000) } });
    // A letter with its vowel mark is one character (two code points): 5000 of them fit, 5001 do not.
    expect((await post("بَ".repeat(5000))).status).toBe(201);
    expect((await post("بَ".repeat(5001))).status).toBe(422);
  }, 30_000);

  test("descriptions are stored in NFC", async () => {
    // آ typed as alef + combining madda (U+0627 U+0653) is stored as the one letter U+0622.
    const res = await post("\u0627\u0653\u0628\u06cc \u062f\u0627\u0631\u062f");
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const [row] = await sql<{ description: string }[]>`select description from ads where id = ${id}`;
    expect(row?.description).toBe("\u0622\u0628\u06cc \u062f\u0627\u0631\u062f");
  });
});
