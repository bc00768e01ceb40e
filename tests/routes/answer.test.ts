/**
 * How a route chooses its answer (src/routes/answer.ts) and the browser versions of the ad
 * routes' error answers (src/routes/public.ts): pure functions of the request, no services.
 */
import { describe, expect, test } from "bun:test";
import { answer, representationOf, VARY, type Representation } from "../../src/routes/answer";
import { browserVersion } from "../../src/routes/public";

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const req = (headers: Record<string, string> = {}, method = "GET", path = "/ads/0190a5c2-7d1e-7c3b-9f2a-3e4d5c6b7a81") =>
  new Request(`http://localhost${path}`, { method, headers });

describe("representationOf", () => {
  const cases: Array<[string, Record<string, string>, Representation]> = [
    ["no Accept", {}, "json"],
    ["*/*", { accept: "*/*" }, "json"],
    ["JSON only", { accept: "application/json" }, "json"],
    ["JSON listed first at the same quality", { accept: "application/json, text/html" }, "json"],
    ["HTML ranked lower", { accept: "text/html;q=0.5, application/json" }, "json"],
    ["HTML refused", { accept: "text/html;q=0, */*" }, "json"],
    ["a browser navigating", { accept: BROWSER }, "page"],
    ["text/html", { accept: "text/html" }, "page"],
    ["htmx", { "hx-request": "true", accept: "text/html" }, "fragment"],
    ["htmx restoring its history", { "hx-request": "true", "hx-history-restore-request": "true", accept: "text/html" }, "page"],
    ["htmx asking for the whole page", { "hx-request": "true", "hx-request-type": "full", accept: "text/html" }, "page"],
  ];
  for (const [name, headers, wanted] of cases) test(`${name} → ${wanted}`, () => expect(representationOf(req(headers))).toBe(wanted));
});

describe("answer", () => {
  const views = { json: () => ({ ok: true }), page: () => "<main>page</main>", fragment: () => "<p>fragment</p>" };

  test("JSON clients get the JSON value itself (Elysia serialises and validates it); Vary is set", () => {
    const set = { headers: {} as Record<string, unknown> };
    expect(answer({ request: req(), set }, views)).toEqual({ ok: true });
    expect(set.headers.vary).toBe(VARY);
  });

  test("a browser gets the page, htmx the fragment (or the page when there is none), as HTML", async () => {
    const page = answer({ request: req({ accept: BROWSER }), set: { headers: {} } }, views) as unknown as Response;
    expect(page).toBeInstanceOf(Response);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("vary")).toBe(VARY);
    expect(await page.text()).toBe("<main>page</main>");
    const fragment = answer({ request: req({ "hx-request": "true" }), set: { headers: {} } }, views) as unknown as Response;
    expect(await fragment.text()).toBe("<p>fragment</p>");
    const noFragment = answer({ request: req({ "hx-request": "true" }), set: { headers: {} } }, { json: views.json, page: views.page }) as unknown as Response;
    expect(await noFragment.text()).toBe("<main>page</main>");
  });

  test("only the chosen representation is built", () => {
    let built = "";
    const spy = { json: () => (built += "json"), page: () => ((built += "page"), "<main></main>"), fragment: () => ((built += "fragment"), "<p></p>") };
    answer({ request: req({ "hx-request": "true" }), set: { headers: {} } }, spy);
    expect(built).toBe("fragment");
  });
});

describe("browserVersion (errors answered outside a route's handler)", () => {
  const error = (message: string) => ({ error: { code: "x", message } });

  test("API clients get null (the caller answers JSON)", () => {
    expect(browserVersion(req({}, "POST", "/ads"), 422, error("bad"))).toBeNull();
    expect(browserVersion(req({ accept: "application/json" }), 404, error("gone"))).toBeNull();
  });

  test("POST /ads: the message next to the form (htmx) or on a page, with the status and extra headers", async () => {
    const fragment = browserVersion(req({ "hx-request": "true" }, "POST", "/ads"), 503, error("The database is <down>"), { "retry-after": "5" })!;
    expect(fragment.status).toBe(503);
    expect(fragment.headers.get("retry-after")).toBe("5");
    expect(fragment.headers.get("vary")).toBe(VARY);
    const html = await fragment.text();
    expect(html).toContain('class="notice notice-error"');
    expect(html).toContain("The database is &lt;down&gt;");
    const page = browserVersion(req({ accept: BROWSER }, "POST", "/ads"), 413, error("too big"))!;
    expect(await page.text()).toStartWith("<!doctype html>");
  });

  test("GET /ads/:id: not found is the lookup page or, for the polling fragment, its final state", async () => {
    expect(await browserVersion(req({ accept: BROWSER }), 404, error("No ad"))!.text()).toContain("We could not find that ad");
    const gone = await browserVersion(req({ "hx-request": "true" }), 404, error("No ad"))!.text();
    expect(gone).toStartWith('<section id="ad-status"');
    expect(gone).not.toContain("hx-trigger");
    expect(await browserVersion(req({ accept: BROWSER }), 503, error("down"))!.text()).toContain("Something went wrong");
  });

  test("an unknown URL is the 404 page for a browser; other routes' errors stay JSON", async () => {
    const res = browserVersion(req({ accept: BROWSER }, "GET", "/no/such/page"), 404, error("Not found"))!;
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(browserVersion(req({ accept: BROWSER }, "GET", "/ads/x/image"), 503, error("down"))).toBeNull();
    expect(browserVersion(req({ accept: BROWSER }, "POST", "/admin/bulk"), 422, error("bad"))).toBeNull();
  });
});
