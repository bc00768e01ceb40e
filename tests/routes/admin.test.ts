/**
 * The dashboard's HTTP contract, in-process against the real services: access control derived
 * from the route table, CSRF and Sec-Fetch-Site, login throttling, that no GET changes anything,
 * and the operator actions with their audit entries and e-mails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildHandlerDeps } from "../../src/compose";
import { handleAdMessage } from "../../src/consumer/handle-ad-message";
import { silentLogger } from "../../src/services/logger";
import { serviceMetrics } from "../../src/services/metrics";
import { ADMIN_TEST_PASSWORD, buildTestApp } from "../support/app";
import { photo } from "../support/fixtures";
import { adForm, startTestStack } from "../support/stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let t: Awaited<ReturnType<typeof buildTestApp>>;

beforeAll(async () => {
  stack = await startTestStack();
  t = await buildTestApp(stack.config);
});
afterAll(async () => {
  await t.close();
  await stack.stop();
});

const BASE = "http://localhost";
const req = (method: string, path: string, init: { cookie?: string; headers?: Record<string, string>; body?: BodyInit } = {}) =>
  t.app.handle(new Request(BASE + path, { method, body: init.body, headers: { ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers } }));

async function login(password = ADMIN_TEST_PASSWORD, ip?: string) {
  const body = new URLSearchParams({ password });
  return req("POST", "/admin/login", { body, headers: { "content-type": "application/x-www-form-urlencoded", ...(ip ? { "x-forwarded-for": ip } : {}) } });
}

// Logins are throttled (5 a minute per client, and every in-process request is the same client),
// so the tests share one session; only the logout test opens its own.
let shared: Promise<{ cookie: string; csrf: string }> | null = null;
function session(): Promise<{ cookie: string; csrf: string }> {
  shared ??= newSession();
  return shared;
}

async function newSession(): Promise<{ cookie: string; csrf: string }> {
  const res = await login();
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await req("GET", "/admin", { cookie })).text();
  const csrf = /"X-CSRF-Token":"([^"]+)"/.exec(unescape(page))?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

/** Undoes the HTML escaping of quotes, for asserting on text. */
function unescape(html: string): string {
  return html.replaceAll("&#34;", '"').replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

async function submit(file = "vehicle-car-rear.jpg", description = "An ad"): Promise<string> {
  const res = await req("POST", "/ads", { body: adForm({ description, email: "poster@example.com", image: photo(file) }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function processNow(id: string, extra: Record<string, unknown> = {}) {
  const deps = { ...buildHandlerDeps(stack.config, silentLogger, serviceMetrics(), t.repo, t.storage), ...extra };
  return handleAdMessage(deps, { adId: id, retries: 0 });
}

async function snapshot() {
  return t.sql`select (select json_agg(json_build_object('id', id, 'state', state, 'category', category, 'updated', updated_at) order by id) from ads) as ads,
                      (select count(*) from ad_events) as events, (select count(*) from emails) as emails`;
}

describe("access control", () => {
  test("every /admin route in the route table is denied without a session", async () => {
    const id = await submit();
    const routes = t.app.routes.filter((r) => (r.path === "/admin" || r.path.startsWith("/admin/")) && r.path !== "/admin/login");
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const r of routes) {
      const path = r.path.replace(":id", id).replace(":action", "approve");
      const res = await req(r.method, path, { headers: { "content-type": "application/x-www-form-urlencoded" }, body: r.method === "GET" ? undefined : "category=car" });
      const where = `${r.method} ${r.path}`;
      expect([where, res.status]).toEqual([where, r.method === "GET" ? 303 : 401]);
      if (r.method === "GET") expect(res.headers.get("location")).toBe("/admin/login");
    }
    expect((await t.repo.get(id))!.state).toBe("pending");
  });

  test("a forged or expired cookie is no session", async () => {
    const res = await req("GET", "/admin", { cookie: "ad_admin=forged-token-value" });
    expect(res.status).toBe(303);
  });

  test("login: wrong password 401; right password sets a fresh HttpOnly, SameSite=Strict session cookie", async () => {
    expect((await login("wrong password!", "10.9.9.1")).status).toBe(401);
    const a = await login();
    const b = await login();
    const cookieA = a.headers.get("set-cookie")!;
    expect(cookieA).toContain("HttpOnly");
    expect(cookieA).toContain("SameSite=Strict");
    expect(cookieA).toContain("Path=/admin");
    expect(cookieA).not.toContain("Secure"); // PUBLIC_BASE_URL is http here
    expect(cookieA.split(";")[0]).not.toBe(b.headers.get("set-cookie")!.split(";")[0]); // rotated on every login
  });

  test("state changes need the CSRF token and a same-origin fetch", async () => {
    const { cookie, csrf } = await session();
    const id = await submit();
    const form = () => new URLSearchParams({ category: "car" });
    const url = `/admin/ads/${id}/approve`;
    const h = { "content-type": "application/x-www-form-urlencoded" };
    expect((await req("POST", url, { cookie, body: form(), headers: h })).status).toBe(403);
    expect((await req("POST", url, { cookie, body: form(), headers: { ...h, "x-csrf-token": "wrong" } })).status).toBe(403);
    expect((await req("POST", url, { cookie, body: form(), headers: { ...h, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" } })).status).toBe(403);
    expect((await t.repo.get(id))!.state).toBe("pending");
    const ok = await req("POST", url, { cookie, body: form(), headers: { ...h, "x-csrf-token": csrf, "sec-fetch-site": "same-origin" } });
    expect(ok.status).toBe(303);
    expect((await t.repo.get(id))!.state).toBe("accepted");
  });

  test("logout ends the session", async () => {
    const { cookie, csrf } = await newSession();
    const out = await req("POST", "/admin/logout", { cookie, body: new URLSearchParams({ _csrf: csrf }), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await req("GET", "/admin", { cookie })).status).toBe(303);
  });

  test("no GET changes anything", async () => {
    const { cookie } = await session();
    const id = await submit();
    await processNow(id);
    const before = await snapshot();
    const gets = t.app.routes.filter((r) => r.method === "GET" && (r.path === "/admin" || r.path.startsWith("/admin/")));
    for (const r of gets) {
      for (const action of ["approve", "reject", "reprocess"]) {
        await req("GET", r.path.replace(":id", id).replace(":action", action) + "?state=accepted&action=reject&ids=" + id, { cookie });
      }
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("moderation", () => {
  const form = (csrf: string, fields: Record<string, string | string[]>) => {
    const f = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) f.append(k, x);
    return { body: f, headers: { "content-type": "application/x-www-form-urlencoded", "x-csrf-token": csrf, "hx-request": "true" } };
  };

  test("overriding an automatic rejection: approved with the chosen category, audited, and a new e-mail queued", async () => {
    const { cookie, csrf } = await session();
    const id = await submit("none-cat.png", "Definitely a car");
    await processNow(id);
    expect((await t.repo.get(id))!.state).toBe("rejected");
    const res = await req("POST", `/admin/ads/${id}/approve`, { cookie, ...form(csrf, { category: "car" }) });
    expect(res.status).toBe(200);
    expect(unescape(await res.text())).toContain('Approved as "car"');
    expect(await t.repo.get(id)).toMatchObject({ state: "accepted", category: "car", decided_by: "operator" });
    const events = await t.repo.eventsFor(id);
    expect(events.at(-1)).toMatchObject({ from_state: "rejected", to_state: "accepted", actor: "operator" });
    const emails = await t.repo.emailsFor(id);
    expect(emails.map((e) => e.kind)).toEqual(["rejected", "accepted"]);
    // The worker delivers the queued e-mail when it sees the id.
    await processNow(id);
    expect(stack.mailgun.forAd(id).map((m) => m.subject)).toEqual(["Your ad was not approved", "Your ad was accepted (car)"]);
  });

  test("rejecting with a reason: the reason goes into the e-mail; the same rejection twice changes nothing", async () => {
    const { cookie, csrf } = await session();
    const id = await submit();
    await req("POST", `/admin/ads/${id}/reject`, { cookie, ...form(csrf, { reason: "Photo shows a <b>toy</b> car" }) });
    await req("POST", `/admin/ads/${id}/reject`, { cookie, ...form(csrf, { reason: "again" }) });
    expect((await t.repo.get(id))!.state).toBe("rejected");
    const emails = await t.repo.emailsFor(id);
    expect(emails).toHaveLength(1);
    expect(emails[0]!.body_text).toContain("Photo shows a <b>toy</b> car");
    expect(emails[0]!.body_html).toContain("&lt;b&gt;toy&lt;/b&gt;");
  });

  test("an invalid category is a 422 with the message, and nothing changes", async () => {
    const { cookie, csrf } = await session();
    const id = await submit();
    const res = await req("POST", `/admin/ads/${id}/approve`, { cookie, ...form(csrf, { category: "<script>" }) });
    expect(res.status).toBe(422);
    expect((await t.repo.get(id))!.state).toBe("pending");
  });

  test("reprocess: back to pending with a fresh budget, then decided again by the rule", async () => {
    const { cookie, csrf } = await session();
    const id = await submit("vehicle-bus.jpg");
    await req("POST", `/admin/ads/${id}/reject`, { cookie, ...form(csrf, { reason: "spam" }) });
    await req("POST", `/admin/ads/${id}/reprocess`, { cookie, ...form(csrf, {}) });
    expect(await t.repo.get(id)).toMatchObject({ state: "pending", attempts: 0, category: null });
    await processNow(id);
    expect(await t.repo.get(id)).toMatchObject({ state: "accepted", category: "bus", decided_by: "auto" });
    expect((await t.repo.eventsFor(id)).map((e) => `${e.to_state}/${e.actor}`)).toEqual(["pending/poster", "rejected/operator", "pending/operator", "accepted/auto"]);
  });

  test("an operator's decision is never overwritten by a late worker", async () => {
    const { cookie, csrf } = await session();
    const id = await submit("none-cat.png");
    await req("POST", `/admin/ads/${id}/approve`, { cookie, ...form(csrf, { category: "cat carrier" }) });
    await processNow(id); // the message the intake published arrives after the operator acted
    expect(await t.repo.get(id)).toMatchObject({ state: "accepted", category: "cat carrier", decided_by: "operator" });
  });

  test("bulk approve uses each ad's top tag; bulk reject applies one reason", async () => {
    const { cookie, csrf } = await session();
    const a = await submit("vehicle-bus.jpg");
    const b = await submit("vehicle-motorcycle.png");
    const c = await submit("none-fruits.jpg");
    // Tag them but hold them for review, so they are undecided with tags.
    for (const id of [a, b]) await processNow(id, { rule: { vehicleTag: "vehicle", minConfidence: 99, reviewMinConfidence: 10 } });
    expect((await t.repo.get(a))!.state).toBe("review");
    const res = await req("POST", "/admin/bulk", { cookie, ...form(csrf, { ids: [a, b], action: "approve", state: "review" }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Approved 2 of 2 selected ads.");
    expect(await t.repo.get(a)).toMatchObject({ state: "accepted", category: "bus" });
    expect(await t.repo.get(b)).toMatchObject({ state: "accepted", category: "motorcycle" });
    await req("POST", "/admin/bulk", { cookie, ...form(csrf, { ids: [c], action: "reject", reason: "Not a vehicle", state: "pending" }) });
    expect(await t.repo.get(c)).toMatchObject({ state: "rejected", decision_reason: "Not a vehicle" });
  });

  test("the review band holds an ad for a human, in its own tab", async () => {
    const { cookie } = await session();
    const id = await submit("vehicle-boats-harbour.jpg", "Harbour boat for review");
    await processNow(id, { rule: { vehicleTag: "vehicle", minConfidence: 60, reviewMinConfidence: 40 } });
    expect((await t.repo.get(id))!.state).toBe("review");
    expect(await t.repo.emailsFor(id)).toEqual([]);
    const page = await (await req("GET", "/admin?state=review", { cookie })).text();
    expect(page).toContain("Harbour boat for review");
    const pub = (await (await req("GET", `/ads/${id}`)).json()) as { state: string };
    expect(pub.state).toBe("pending");
  });

  test("search by e-mail, id and text; keyset pagination", async () => {
    const { cookie } = await session();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await submit("none-cat.png", `Paginated ad number ${i}`));
    const first = await (await req("GET", "/admin?state=pending&q=Paginated", { cookie })).text();
    expect(first).toContain("Paginated ad number 29");
    expect(first).not.toContain("Paginated ad number 4<");
    const older = /href="(\/admin\?state=pending&q=Paginated&before=[^"]+)"/.exec(unescape(first))![1]!;
    const second = await (await req("GET", older, { cookie })).text();
    expect(second).toContain("Paginated ad number 4<");
    expect(second).not.toContain("Paginated ad number 29");
    const byId = await (await req("GET", `/admin?state=pending&q=${ids[7]}`, { cookie })).text();
    expect(byId).toContain("Paginated ad number 7<");
    expect(byId).not.toContain("Paginated ad number 8<");
  });

  test("overview and outbox render", async () => {
    const { cookie } = await session();
    const o = await req("GET", "/admin/overview", { cookie });
    expect(o.status).toBe(200);
    const html = await o.text();
    expect(html).toContain("<svg");
    expect(html).toContain("Outcomes per day");
    const out = await (await req("GET", "/admin/outbox", { cookie })).text();
    expect(out).toContain("Your ad was accepted (car)");
  });
});

describe("login throttling (last: it spends this client's budget)", () => {
  test("login is throttled per client", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await t.app.handle(
        new Request(BASE + "/admin/login", { method: "POST", body: new URLSearchParams({ password: "guess " + i }), headers: { "content-type": "application/x-www-form-urlencoded" } }),
      );
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
  });
});
