/**
 * The dashboard's HTTP contract, in-process against the real services: access control derived
 * from the route table, CSRF and Sec-Fetch-Site, login throttling, that no GET changes anything,
 * and the operator actions with their audit entries and e-mails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildAppDeps, buildHandlerDeps } from "../../src/compose";
import { handleAdMessage } from "../../src/consumer/handle-ad-message";
import type { AdminDeps } from "../../src/routes/admin";
import { createApp } from "../../src/routes/app";
import { AdminAuth } from "../../src/admin/auth";
import { silentLogger } from "../../src/platform/logger";
import { serviceMetrics } from "../../src/platform/metrics";
import { ADMIN_TEST_PASSWORD, buildTestApp } from "../support/app";
import { photo } from "../support/fixtures";
import { adForm, startTestStack } from "../support/stack";
import { emailsOf, eventsOf } from "../support/rows";

let stack: Awaited<ReturnType<typeof startTestStack>>;
let t: Awaited<ReturnType<typeof buildTestApp>>;
let app: ReturnType<typeof createApp>;

/**
 * The app over the test stack's services, as a (re)started copy would build it: with `password`
 * as ADMIN_PASSWORD, and TRUST_PROXY from the stack's configuration (true here, so each test can
 * be its own client through X-Forwarded-For), unless `admin` overrides it.
 */
function appWith(password: string, admin: Partial<AdminDeps> = {}) {
  const deps = buildAppDeps(stack.config, {
    repo: t.repo,
    storage: t.storage,
    publisher: t.publisher,
    log: silentLogger,
    metrics: t.metrics,
    checks: {},
    isShuttingDown: () => false,
    version: "test",
    admin: { sql: t.sql, password },
  });
  deps.admin = { trustProxy: stack.config.trustProxy, ...deps.admin!, ...admin };
  return createApp(deps);
}

beforeAll(async () => {
  stack = await startTestStack({ TRUST_PROXY: "true" });
  t = await buildTestApp(stack.config);
  app = appWith(ADMIN_TEST_PASSWORD);
});
afterAll(async () => {
  await t.close();
  await stack.stop();
});

const BASE = "http://localhost";
type Init = { cookie?: string; headers?: Record<string, string>; body?: BodyInit; base?: string };
const reqOn = (a: { handle(r: Request): Promise<Response> }, method: string, path: string, init: Init = {}) =>
  a.handle(new Request((init.base ?? BASE) + path, { method, body: init.body, headers: { ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers } }));
const req = (method: string, path: string, init: Init = {}) => reqOn(app, method, path, init);

async function login(password = ADMIN_TEST_PASSWORD, ip?: string, on: { handle(r: Request): Promise<Response> } = app, init: Init = {}) {
  const body = new URLSearchParams({ password });
  return reqOn(on, "POST", "/admin/login", { ...init, body, headers: { "content-type": "application/x-www-form-urlencoded", ...(ip ? { "x-forwarded-for": ip } : {}), ...init.headers } });
}

const cookieOf = (res: Response) => res.headers.get("set-cookie")!.split(";")[0]!;

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
    const routes = app.routes.filter((r) => (r.path === "/admin" || r.path.startsWith("/admin/")) && r.path !== "/admin/login");
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

  test("a forged cookie is no session", async () => {
    const res = await req("GET", "/admin", { cookie: "ad_admin=forged-token-value" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
  });

  test("an expired session (its expires_at passed) is no session", async () => {
    const res = await login(ADMIN_TEST_PASSWORD, "10.20.0.1");
    expect(res.status).toBe(303);
    const cookie = cookieOf(res);
    expect((await req("GET", "/admin", { cookie })).status).toBe(200);
    const token = cookie.split("=")[1]!;
    const hash = new Bun.CryptoHasher("sha256").update(token).digest("hex");
    const updated = await t.sql`update admin_sessions set expires_at = now() - interval '1 second' where token_hash = ${hash}`;
    expect(updated.count).toBe(1);
    const after = await req("GET", "/admin", { cookie });
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/admin/login");
    expect((await req("POST", "/admin/bulk", { cookie, body: new URLSearchParams({ action: "approve" }), headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(401);
  });

  test("a session ends when ADMIN_PASSWORD changes (a restart with another password, same database)", async () => {
    const res = await login(ADMIN_TEST_PASSWORD, "10.20.0.2");
    expect(res.status).toBe(303);
    const cookie = cookieOf(res);
    // A restart with the same password keeps the session...
    expect((await reqOn(appWith(ADMIN_TEST_PASSWORD), "GET", "/admin", { cookie })).status).toBe(200);
    // ...one with another password does not, on that copy nor on a copy still running the old one
    // once it is restarted with the new one too.
    const changed = appWith("a brand new operator password");
    const res2 = await reqOn(changed, "GET", "/admin", { cookie });
    expect(res2.status).toBe(303);
    expect(res2.headers.get("location")).toBe("/admin/login");
    // The database holds a tag derived from the password, never the password or a plain hash of it.
    const [row] = await t.sql<{ password_tag: string | null }[]>`select password_tag from admin_sessions where token_hash = ${new Bun.CryptoHasher("sha256").update(cookie.split("=")[1]!).digest("hex")}`;
    expect(row!.password_tag).toBeTruthy();
    const dump = JSON.stringify(await t.sql`select * from admin_sessions`);
    expect(dump).not.toContain(ADMIN_TEST_PASSWORD);
    expect(dump).not.toContain(new Bun.CryptoHasher("sha256").update(ADMIN_TEST_PASSWORD).digest("hex"));
    // The new password signs in on the new copy.
    expect((await login("a brand new operator password", "10.20.0.3", changed)).status).toBe(303);
  });

  test("the session cookie is Secure when the request came over https (directly, or per a trusted proxy)", async () => {
    const direct = await login(ADMIN_TEST_PASSWORD, "10.20.0.4", app, { base: "https://localhost" });
    expect(direct.status).toBe(303);
    expect(direct.headers.get("set-cookie")).toContain("; Secure");
    const proxied = await login(ADMIN_TEST_PASSWORD, "10.20.0.5", app, { headers: { "x-forwarded-proto": "https" } });
    expect(proxied.headers.get("set-cookie")).toContain("; Secure");
    const plain = await login(ADMIN_TEST_PASSWORD, "10.20.0.6");
    expect(plain.headers.get("set-cookie")).not.toContain("Secure");
    // Without TRUST_PROXY the header is anyone's to send: ignored.
    const untrusting = appWith(ADMIN_TEST_PASSWORD, { trustProxy: false });
    const spoofed = await login(ADMIN_TEST_PASSWORD, undefined, untrusting, { headers: { "x-forwarded-proto": "https" } });
    expect(spoofed.status).toBe(303);
    expect(spoofed.headers.get("set-cookie")).not.toContain("Secure");
    // Signing out over https clears the cookie with the same flags.
    const cookie = cookieOf(direct);
    const page = await (await req("GET", "/admin", { cookie })).text();
    const csrf = /"X-CSRF-Token":"([^"]+)"/.exec(unescape(page))![1]!;
    const out = await req("POST", "/admin/logout", { base: "https://localhost", cookie, body: new URLSearchParams({ _csrf: csrf }), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(out.headers.get("set-cookie")).toContain("; Secure");
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
    const gets = app.routes.filter((r) => r.method === "GET" && (r.path === "/admin" || r.path.startsWith("/admin/")));
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
    const events = await eventsOf(t.sql, id);
    expect(events.at(-1)).toMatchObject({ from_state: "rejected", to_state: "accepted", actor: "operator" });
    const emails = await emailsOf(t.sql, id);
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
    const emails = await emailsOf(t.sql, id);
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
    expect((await eventsOf(t.sql, id)).map((e) => `${e.to_state}/${e.actor}`)).toEqual(["pending/poster", "rejected/operator", "pending/operator", "accepted/auto"]);
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
    expect(await emailsOf(t.sql, id)).toEqual([]);
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

/** Every <form method="post"> of a page: its action and the value of its `_csrf` field (or null). */
function postForms(html: string) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)]
    .filter((m) => /method="post"/i.test(m[1]!))
    .map((m) => ({ action: /action="([^"]*)"/.exec(m[1]!)?.[1] ?? "", csrf: /<input[^>]*name="_csrf"[^>]*value="([^"]*)"/.exec(m[2]!)?.[1] ?? null }));
}

describe("forms without JavaScript", () => {
  test("every POST form on every page carries the session's _csrf field", async () => {
    const { cookie, csrf } = await session();
    const id = await submit("vehicle-bus.jpg", "Form check");
    await processNow(id);
    await t.sql`update emails set status = 'failed', last_error = 'test: mailbox full' where ad_id = ${id}`; // so the Resend buttons render
    const emailId = (await emailsOf(t.sql, id))[0]!.id;
    const seen: string[] = [];
    for (const path of ["/admin", "/admin?state=accepted", `/admin/ads/${id}`, "/admin/outbox", "/admin/outbox?status=failed", "/admin/overview"]) {
      const forms = postForms(await (await req("GET", path, { cookie })).text());
      expect(forms.length).toBeGreaterThan(0);
      for (const f of forms) {
        expect([path, f.action, f.csrf]).toEqual([path, f.action, csrf]);
        seen.push(f.action);
      }
    }
    for (const action of ["/admin/logout", "/admin/bulk", `/admin/ads/${id}/approve`, `/admin/ads/${id}/reject`, `/admin/ads/${id}/reprocess`, `/admin/emails/${emailId}/resend`]) expect(seen).toContain(action);
  });

  test("a plain form POST (no htmx, no header) with the page's _csrf field works; without the field it is refused (403)", async () => {
    const { cookie } = await session();
    const id = await submit("none-cat.png", "Plain form");
    const approve = postForms(await (await req("GET", `/admin/ads/${id}`, { cookie })).text()).find((f) => f.action === `/admin/ads/${id}/approve`)!;
    const h = { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" };
    expect((await req("POST", approve.action, { cookie, headers: h, body: new URLSearchParams({ category: "car" }) })).status).toBe(403);
    expect((await t.repo.get(id))!.state).toBe("pending");
    const ok = await req("POST", approve.action, { cookie, headers: h, body: new URLSearchParams({ category: "car", _csrf: String(approve.csrf) }) });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe(`/admin/ads/${id}`);
    expect((await t.repo.get(id))!.state).toBe("accepted");
  });
});

describe("resending a failed e-mail", () => {
  const h = { "content-type": "application/x-www-form-urlencoded" };

  test("POST /admin/emails/:id/resend needs a session and the CSRF token; an unknown e-mail is 404 or 409", async () => {
    expect((await req("POST", "/admin/emails/1/resend", { headers: h, body: "" })).status).toBe(401);
    const { cookie, csrf } = await session();
    expect((await req("POST", "/admin/emails/1/resend", { cookie, headers: h, body: "" })).status).toBe(403);
    expect((await req("POST", "/admin/emails/1/resend", { cookie, headers: { ...h, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" }, body: "" })).status).toBe(403);
    expect((await req("POST", "/admin/emails/not-an-id/resend", { cookie, headers: { ...h, "x-csrf-token": csrf }, body: "" })).status).toBe(404);
    const unknown = await req("POST", "/admin/emails/999999999/resend", { cookie, headers: { ...h, "x-csrf-token": csrf }, body: "" });
    expect(unknown.status).toBe(409);
    expect(await unknown.text()).toContain("cannot be re-sent");
  });

  test("a failed e-mail is queued again: from the outbox without JavaScript, and from the ad's page with htmx", async () => {
    const { cookie, csrf } = await session();
    const id = await submit("vehicle-motorcycle.png", "Resend me");
    await processNow(id);
    await t.sql`update emails set status = 'failed', last_error = 'test: mailbox full' where ad_id = ${id}`;
    const emailId = (await emailsOf(t.sql, id))[0]!.id;
    const url = `/admin/emails/${emailId}/resend`;
    const form = postForms(await (await req("GET", "/admin/outbox?status=failed", { cookie })).text()).find((f) => f.action === url);
    expect(form).toBeDefined();
    const plain = await req("POST", url, { cookie, headers: h, body: new URLSearchParams({ _csrf: form!.csrf!, from: "outbox", status: "failed" }) });
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe("/admin/outbox?status=failed");
    expect((await emailsOf(t.sql, id))[0]!.status).toBe("queued");
    // Not failed any more: nothing to re-send.
    const again = await req("POST", url, { cookie, headers: { ...h, "x-csrf-token": csrf, "hx-request": "true" }, body: new URLSearchParams({ from: "ad", ad: id }) });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("cannot be re-sent");

    await t.sql`update emails set status = 'failed' where id = ${emailId}`;
    const htmx = await req("POST", url, { cookie, headers: { ...h, "x-csrf-token": csrf, "hx-request": "true" }, body: new URLSearchParams({ from: "ad", ad: id }) });
    expect(htmx.status).toBe(200);
    const html = await htmx.text();
    expect(html).toContain('id="detail"');
    expect(html).toContain("queued again");
    expect(html).not.toContain(`action="${url}"`); // no Resend button once it is queued
    expect((await emailsOf(t.sql, id))[0]!.status).toBe("queued");
  });
});

// Each test runs on a copy of its own (as its own process would be): fresh per-client and global budgets.
describe("login throttling", () => {
  test("login is throttled per client; with TRUST_PROXY the client is the forwarded address", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login("guess " + i, "10.30.0.1", a)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const throttled = await login("guess 8", "10.30.0.1", a);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another forwarded client has its own budget.
    expect((await login("guess 9", "10.30.0.2", a)).status).toBe(401);
    expect((await login(ADMIN_TEST_PASSWORD, "10.30.0.3", a)).status).toBe(303);
  });

  test("without TRUST_PROXY a client cannot dodge the throttle by inventing X-Forwarded-For values", async () => {
    const untrusting = appWith(ADMIN_TEST_PASSWORD, { trustProxy: false });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login("guess " + i, `10.31.0.${i}`, untrusting)).status);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  test("one client hammering sign-in cannot lock other operators out (the global budget is only spent by allowed attempts)", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await login("hammer " + i, "10.32.0.1", a)).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    expect((await login(ADMIN_TEST_PASSWORD, "10.32.0.2", a)).status).toBe(303);
  });

  test("AdminAuth: a client's refused attempts do not spend the global budget", async () => {
    const auth = new AdminAuth(t.sql, ADMIN_TEST_PASSWORD, 60_000);
    for (let i = 0; i < 100; i++) await auth.login("wrong password", "198.51.100.7");
    expect(await auth.login("wrong password", "198.51.100.7")).toMatchObject({ ok: false, reason: "throttled" });
    // Fifteen other clients, each within its own budget, still get answers (the global burst is
    // 20, and the hammering client spent only the 5 attempts it was allowed).
    for (let i = 0; i < 14; i++) expect(await auth.login("wrong password", `198.51.101.${i}`)).toMatchObject({ ok: false, reason: "bad_password" });
    expect(await auth.login(ADMIN_TEST_PASSWORD, "198.51.102.1")).toMatchObject({ ok: true });
  });

  test("AdminAuth: the IPv6 addresses of one /64 are one client", async () => {
    const auth = new AdminAuth(t.sql, ADMIN_TEST_PASSWORD, 60_000);
    for (let i = 0; i < 5; i++) expect(await auth.login("wrong password", `2001:db8:7:7::${i + 1}`)).toMatchObject({ ok: false, reason: "bad_password" });
    expect(await auth.login(ADMIN_TEST_PASSWORD, "2001:db8:7:7:abcd::99")).toMatchObject({ ok: false, reason: "throttled" });
    expect(await auth.login(ADMIN_TEST_PASSWORD, "2001:db8:7:8::1")).toMatchObject({ ok: true });
  });
});
