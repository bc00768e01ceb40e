/**
 * The poster's side, tried in Chromium against the binary as a new user would: post an ad, open
 * the private link from the e-mail, withdraw the ad — it is gone from `/ads` and from storage, and
 * a second withdraw says it already is. Then someone else posts a re-encoded, resized copy of an
 * accepted ad's photo: it waits in "Needs review" marked as a possible copy, both photos side by
 * side on the operator's page. And `/ads` shows what is for sale, in both languages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { FIXTURES_DIR } from "../doubles/imagga";
import { decodeImage } from "../../src/image/decode";
import { thumbnailJpeg } from "../../src/image/thumbnail";
import { startBinary, type Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, startTestStack, waitFor } from "../support/stack";
import { signIn } from "../support/admin-client";
import { buildStorage } from "../../src/compose";
import { connectDatabase, type Sql } from "../../src/database/database";
import type { ImageStorage } from "../../src/storage/storage";
import { launchBrowser, screenshot, type PageProblems, type TestBrowser } from "./browser";

const PASSWORD = "correct horse battery staple";
let stack: Awaited<ReturnType<typeof startTestStack>>;
let svc: Running;
let browser: TestBrowser;
let sql: Sql;
let storage: ImageStorage;

/** Every stored object's key (photos and thumbnails). */
async function objectKeys(): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of ["ads/", "thumbs/"]) keys.push(...(await storage.list(prefix)).objects.map((o) => o.key));
  return keys;
}

beforeAll(async () => {
  stack = await startTestStack();
  sql = connectDatabase({ url: stack.config.databaseUrl!, max: 2 });
  storage = buildStorage(stack.config);
  svc = await startBinary([], { ...stack.env, PORT: "0", LOG_LEVEL: "info", ADMIN_PASSWORD: PASSWORD });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await sql?.end();
  await browser?.close();
  await svc?.stop();
  await stack?.stop();
}, 30_000);

function expectClean(problems: PageProblems) {
  expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });
}

const state = async (id: string) => ((await (await fetch(`${svc.url}/ads/${id}`)).json()) as { state: string }).state;
const listed = async () => ((await (await fetch(`${svc.url}/ads?limit=100`)).json()) as { items: Array<{ id: string }> }).items.map((i) => i.id);

async function postInBrowser(page: Page, description: string, email: string, file: string): Promise<string> {
  await page.goto(`${svc.url}/`);
  await page.fill("#description", description);
  await page.fill("#email", email);
  await page.setInputFiles("#image", join(FIXTURES_DIR, file));
  await page.click("#ad-form button[type=submit]");
  await page.waitForSelector(".manage-link a", { timeout: 15_000 });
  return /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(await page.locator(".notice-success").innerText())![0];
}

describe("a poster in control of their ad", () => {
  test("post, follow the e-mail's private link, withdraw: gone from /ads and storage; withdrawing again says so", async () => {
    const { page, problems } = await browser.newPage();
    const email = "seller@example.com";
    const id = await postInBrowser(page, "Silver estate car, one owner, sold privately", email, "vehicle-car-rear.jpg");
    // The page after posting shows the private link once; the e-mail carries it too.
    const shown = await page.locator(".manage-link a").getAttribute("href");
    expect(await waitFor(async () => (await state(id)) === "accepted", 20_000)).toBe(true);
    expect(await waitFor(async () => stack.mailgun.forAd(id).length > 0, 20_000)).toBe(true);
    const mail = stack.mailgun.forAd(id)[0]!;
    const link = /https?:\/\/\S+\/manage\/[A-Za-z0-9_-]{44}/.exec(mail.text)![0];
    expect(link).toBe(shown!);
    expect(await listed()).toContain(id);
    expect((await objectKeys()).some((k) => k.includes(id))).toBe(true);

    await page.goto(link.replace(/^https?:\/\/[^/]+/, svc.url));
    await screenshot(page, "manage-accepted");
    const formToken = await page.locator("form[action$='/withdraw'] input[name=_csrf]").getAttribute("value");
    await page.check("input[name=confirm]");
    await page.click("form[action$='/withdraw'] button");
    await page.waitForSelector(".notice-success");
    expect(await page.locator(".notice-success").innerText()).toContain("taken down");
    await screenshot(page, "manage-withdrawn");
    expect(await listed()).not.toContain(id);
    expect(await waitFor(async () => !(await objectKeys()).some((k) => k.includes(id)), 10_000)).toBe(true);
    // The page has no withdraw form any more; posting the old form again says it already is.
    expect(await page.locator("form[action$='/withdraw']").count()).toBe(0);
    const again = await page.evaluate(
      async ([path, token]) => (await fetch(`${path}/withdraw`, { method: "POST", body: new URLSearchParams({ _csrf: token!, confirm: "yes" }) })).url,
      [new URL(page.url()).pathname, formToken] as const,
    );
    expect(again).toContain("done=alreadyWithdrawn");
    expectClean(problems);
  }, 60_000);

  test("a re-encoded, resized copy of someone else's accepted photo waits for an operator, marked as a possible copy", async () => {
    const original = photo("vehicle-bus.jpg");
    const res = await fetch(`${svc.url}/ads`, { method: "POST", body: adForm({ description: "City bus, 40 seats", email: "owner@example.com", image: original }) });
    const first = ((await res.json()) as { id: string }).id;
    expect(await waitFor(async () => (await state(first)) === "accepted", 20_000)).toBe(true);
    // Another poster, the same photo at another size and quality; the tagger sees a bus.
    const copy = thumbnailJpeg((await decodeImage(original))!, 500, 60);
    stack.imagga.setTags(copy, [{ tag: "bus", confidence: 95 }, { tag: "vehicle", confidence: 90 }]);
    const res2 = await fetch(`${svc.url}/ads`, { method: "POST", body: adForm({ description: "Bus for sale, cheap", email: "someone.else@example.com", image: copy }) });
    const second = ((await res2.json()) as { id: string }).id;
    expect(await waitFor(async () => (await sql`select state from ads where id = ${second}`)[0]?.state === "review", 20_000)).toBe(true);
    const [row] = await sql`select copy_of, decision_reason from ads where id = ${second}`;
    expect(row).toMatchObject({ copy_of: first });
    expect(row!.decision_reason).toContain(`possible copy of ${first}`);
    expect(stack.mailgun.forAd(second)).toEqual([]);

    const s = await signIn(svc.url, PASSWORD);
    const { page, problems } = await browser.newPage();
    const [name, value] = s.cookie.split("=");
    await page.context().addCookies([{ name: name!, value: value!, url: svc.url }]);
    await page.goto(`${svc.url}/admin?state=review`);
    expect(await page.locator(`a[href="/admin/ads/${second}"]`).count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator(".badge-copy").count()).toBeGreaterThanOrEqual(1);
    await page.goto(`${svc.url}/admin/ads/${second}`);
    const images = page.locator(".side-by-side img");
    expect(await images.count()).toBe(2);
    expect(await images.nth(1).getAttribute("src")).toBe(`/admin/ads/${first}/image`);
    // Both photos actually load.
    expect(await page.evaluate(() => Array.from(document.querySelectorAll<HTMLImageElement>(".side-by-side img")).every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
    await screenshot(page, "admin-possible-copy");
    expectClean(problems);
  }, 60_000);

  test("/ads in a browser: accepted ads with thumbnails, in English and in Persian", async () => {
    const res = await fetch(`${svc.url}/ads`, { method: "POST", body: adForm({ description: "Red motorcycle, 2019, 12000 km", email: "rider@example.com", image: photo("vehicle-motorcycle.png") }) });
    const id = ((await res.json()) as { id: string }).id;
    expect(await waitFor(async () => (await state(id)) === "accepted", 20_000)).toBe(true);
    for (const lang of ["en", "fa"] as const) {
      const { page, problems } = await browser.newPage();
      await page.goto(`${svc.url}/ads?lang=${lang}`);
      expect(await page.evaluate(() => document.documentElement.dir)).toBe(lang === "fa" ? "rtl" : "ltr");
      const card = page.locator(`.ad-card a[href="/ads/${id}"]`);
      expect(await card.count()).toBe(1);
      expect(await card.locator("img").getAttribute("src")).toBe(`/ads/${id}/thumb`);
      // The thumbnails are made on their first request: every card's image arrives and decodes.
      await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>(".ad-card img")).every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 15_000 });
      await screenshot(page, `public-list-${lang}`);
      expectClean(problems);
    }
  }, 60_000);

  test("a rejected poster appeals with a note; the operator sees it in Needs review, approves, and the poster is e-mailed the outcome", async () => {
    const res = await fetch(`${svc.url}/ads`, { method: "POST", body: adForm({ description: "My car, photographed at night", email: "night@example.com", image: photo("none-cat.png") }) });
    const id = ((await res.json()) as { id: string }).id;
    expect(await waitFor(async () => stack.mailgun.forAd(id).length > 0, 20_000)).toBe(true);
    expect(await state(id)).toBe("rejected");
    const link = /https?:\/\/\S+\/manage\/[A-Za-z0-9_-]{44}/.exec(stack.mailgun.forAd(id)[0]!.text)![0];
    const poster = await browser.newPage();
    await poster.page.goto(link.replace(/^https?:\/\/[^/]+/, svc.url));
    await poster.page.fill("textarea[name=note]", "It is my car: the photo is dark, please look again");
    await poster.page.click("form[action$='/appeal'] button");
    await poster.page.waitForSelector(".notice-success");
    expect(await poster.page.locator("form[action$='/appeal']").count()).toBe(0); // once only
    expectClean(poster.problems);

    const s = await signIn(svc.url, PASSWORD);
    const op = await browser.newPage();
    const [name, value] = s.cookie.split("=");
    await op.page.context().addCookies([{ name: name!, value: value!, url: svc.url }]);
    await op.page.goto(`${svc.url}/admin?state=review`);
    expect(await op.page.locator(".badge-appeal").count()).toBeGreaterThanOrEqual(1);
    await op.page.goto(`${svc.url}/admin/ads/${id}`);
    expect(await op.page.locator(".appeal blockquote").innerText()).toBe("It is my car: the photo is dark, please look again");
    await screenshot(op.page, "admin-appeal");
    await op.page.fill("input[name=category]", "car");
    await op.page.click("form[action$='/approve'] button");
    expect(await waitFor(async () => (await state(id)) === "accepted", 10_000)).toBe(true);
    expect(await waitFor(async () => stack.mailgun.forAd(id).length === 2, 20_000)).toBe(true);
    expect(stack.mailgun.forAd(id)[1]!.subject).toContain("accepted");
    expectClean(op.problems);
  }, 60_000);
});
