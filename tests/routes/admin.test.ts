/**
 * The dashboard's HTTP contract, in-process against the real services: access control derived
 * from the route table, CSRF and Sec-Fetch-Site, login throttling, that no GET changes anything,
 * and the operator actions with their audit entries and e-mails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildAppDeps, buildHandlerDeps, posterKeys } from "../../src/compose";
import { handleAdMessage } from "../../src/consumer/handle-ad-message";
import type { AdminDeps } from "../../src/routes/admin";
import { createApp } from "../../src/routes/app";
import { AdminAuth } from "../../src/admin/auth";
import { createLogger, silentLogger, type Logger } from "../../src/platform/logger";
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
function appWith(password: string, admin: Partial<AdminDeps> = {}, log: Logger = silentLogger) {
  const deps = buildAppDeps(stack.config, {
    repo: t.repo,
    storage: t.storage,
    publisher: t.publisher,
    log,
    metrics: t.metrics,
    checks: {},
    isShuttingDown: () => false,
    version: "test",
    sql: t.sql,
    keys: posterKeys(stack.config),
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

/** Signs in with only the password (the bootstrap `admin`), or as `name`. */
async function login(password = ADMIN_TEST_PASSWORD, ip?: string, on: { handle(r: Request): Promise<Response> } = app, init: Init = {}, name?: string) {
  const body = new URLSearchParams({ ...(name !== undefined ? { name } : {}), password });
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
    // The database holds a tag keyed by the operator's password hash, never the password or a plain hash of it.
    const [row] = await t.sql<{ password_tag: string | null }[]>`select password_tag from admin_sessions where token_hash = ${new Bun.CryptoHasher("sha256").update(cookie.split("=")[1]!).digest("hex")}`;
    expect(row!.password_tag).toBeTruthy();
    // A restart with the same password keeps the session...
    expect((await reqOn(appWith(ADMIN_TEST_PASSWORD), "GET", "/admin", { cookie })).status).toBe(200);
    // ...one with another password does not, on that copy nor on a copy still running the old one
    // once it is restarted with the new one too.
    const changed = appWith("a brand new operator password");
    const res2 = await reqOn(changed, "GET", "/admin", { cookie });
    expect(res2.status).toBe(303);
    expect(res2.headers.get("location")).toBe("/admin/login");
    const dump = JSON.stringify([await t.sql`select * from admin_sessions`, await t.sql`select * from operators`]);
    expect(dump).not.toContain(ADMIN_TEST_PASSWORD);
    expect(dump).not.toContain(new Bun.CryptoHasher("sha256").update(ADMIN_TEST_PASSWORD).digest("hex"));
    // The new password signs in, on the new copy and (the database is shared) on the old one; the old password nowhere.
    expect((await login("a brand new operator password", "10.20.0.3", changed)).status).toBe(303);
    expect((await login(ADMIN_TEST_PASSWORD, "10.20.0.7", changed)).status).toBe(401);
    // A restart with the first password again (the rest of this file signs in with it).
    expect((await login(ADMIN_TEST_PASSWORD, "10.20.0.8", appWith(ADMIN_TEST_PASSWORD))).status).toBe(303);
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
    expect(unescape(await res.text())).toContain("Approved as “car”");
    expect(await t.repo.get(id)).toMatchObject({ state: "accepted", category: "car", decided_by: "admin" });
    const events = await eventsOf(t.sql, id);
    expect(events.at(-1)).toMatchObject({ from_state: "rejected", to_state: "accepted", actor: "admin" });
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
    expect((await eventsOf(t.sql, id)).map((e) => `${e.to_state}/${e.actor}`)).toEqual(["pending/poster", "rejected/admin", "pending/admin", "accepted/auto"]);
  });

  test("an operator's decision is never overwritten by a late worker", async () => {
    const { cookie, csrf } = await session();
    const id = await submit("none-cat.png");
    await req("POST", `/admin/ads/${id}/approve`, { cookie, ...form(csrf, { category: "cat carrier" }) });
    await processNow(id); // the message the intake published arrives after the operator acted
    expect(await t.repo.get(id)).toMatchObject({ state: "accepted", category: "cat carrier", decided_by: "admin" });
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
    await t.sql`insert into operators (name, role, password_hash) values ('forms-check', 'operator', 'x') on conflict do nothing`; // so the operators page has rows with buttons
    for (const path of ["/admin", "/admin?state=accepted", `/admin/ads/${id}`, "/admin/outbox", "/admin/outbox?status=failed", "/admin/overview", "/admin/operators", "/admin/account"]) {
      const forms = postForms(await (await req("GET", path, { cookie })).text());
      expect(forms.length).toBeGreaterThan(0);
      for (const f of forms) {
        expect([path, f.action, f.csrf]).toEqual([path, f.action, csrf]);
        seen.push(f.action);
      }
    }
    const [other] = await t.sql<{ id: string }[]>`select id::text as id from operators where name = 'forms-check'`;
    for (const action of ["/admin/logout", "/admin/bulk", `/admin/ads/${id}/approve`, `/admin/ads/${id}/reject`, `/admin/ads/${id}/reprocess`, `/admin/emails/${emailId}/resend`, "/admin/operators", "/admin/account"]) expect(seen).toContain(action);
    for (const action of ["disable", "reset-password", "role"]) expect(seen).toContain(`/admin/operators/${other!.id}/${action}`);
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
    for (let i = 0; i < 100; i++) await auth.login("", "wrong password", "198.51.100.7");
    expect(await auth.login("", "wrong password", "198.51.100.7")).toMatchObject({ ok: false, reason: "throttled" });
    // Fifteen other clients, each within its own budget (and each trying a name of its own, within
    // that name's budget), still get answers (the global burst is 20, and the hammering client
    // spent only the 5 attempts it was allowed).
    for (let i = 0; i < 14; i++) expect(await auth.login(`guess-${i}`, "wrong password", `198.51.101.${i}`)).toMatchObject({ ok: false, reason: "bad_password" });
    expect(await auth.login("", ADMIN_TEST_PASSWORD, "198.51.102.1")).toMatchObject({ ok: true });
  });

  test("AdminAuth: the IPv6 addresses of one /64 are one client", async () => {
    const auth = new AdminAuth(t.sql, ADMIN_TEST_PASSWORD, 60_000);
    for (let i = 0; i < 5; i++) expect(await auth.login("", "wrong password", `2001:db8:7:7::${i + 1}`)).toMatchObject({ ok: false, reason: "bad_password" });
    expect(await auth.login("", ADMIN_TEST_PASSWORD, "2001:db8:7:7:abcd::99")).toMatchObject({ ok: false, reason: "throttled" });
    expect(await auth.login("", ADMIN_TEST_PASSWORD, "2001:db8:7:8::1")).toMatchObject({ ok: true });
  });
});

// ---- a team of operators ----

type App = ReturnType<typeof appWith>;
type Session = { cookie: string; csrf: string };
let ipSeq = 0;
/** A client address of its own for each sign-in (TRUST_PROXY is on here), so no per-client budget runs out. */
const nextIp = () => `10.60.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}`;

/** Signs in as `name` (empty: the bootstrap admin) on `a`; returns the session. */
async function signInAs(a: App, name: string, password: string): Promise<Session> {
  const res = await login(password, nextIp(), a, {}, name);
  expect([name, res.status]).toEqual([name, 303]);
  const cookie = cookieOf(res);
  const page = await (await reqOn(a, "GET", "/admin", { cookie })).text();
  const csrf = /"X-CSRF-Token":"([^"]+)"/.exec(unescape(page))![1]!;
  return { cookie, csrf };
}

/** A same-origin POST with the session's CSRF token (htmx unless `plain`). */
function post(a: App, s: Session, path: string, fields: Record<string, string | string[]> = {}, plain = false) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", "x-csrf-token": s.csrf, "sec-fetch-site": "same-origin" };
  if (!plain) headers["hx-request"] = "true";
  return reqOn(a, "POST", path, { cookie: s.cookie, body, headers });
}

const passwordIn = (html: string) => /<code class="password" dir="ltr">([^<]+)<\/code>/.exec(html)?.[1];

/** Adds an operator through the operators page as `admin`; returns their id and the password shown once. */
async function addOperator(a: App, admin: Session, name: string, role = "operator", lang = "en"): Promise<{ id: string; password: string }> {
  const res = await post(a, admin, "/admin/operators", { name, role, lang });
  const html = await res.text();
  expect([name, res.status]).toEqual([name, 200]);
  const password = passwordIn(html);
  expect(password).toBeTruthy();
  const [row] = await t.sql<{ id: string }[]>`select id::text as id from operators where lower(name) = lower(${name})`;
  return { id: row!.id, password: password! };
}

/** The HTML of one queue row (`<tr id="ad-…">`). */
function rowOf(html: string, id: string): string {
  const at = html.indexOf(`<tr id="ad-${id}"`);
  expect(at).toBeGreaterThanOrEqual(0);
  return html.slice(at, html.indexOf("</tr>", at));
}

describe("operators", () => {
  test("an operator signs in with a name and password (argon2id in the database, the name in any case); a wrong password and an unknown name get one answer", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const sara = await addOperator(a, admin, "Sara", "operator", "fa");
    const [row] = await t.sql<{ password_hash: string; role: string; lang: string }[]>`select password_hash, role, lang from operators where id = ${sara.id}`;
    expect(row!.password_hash).toStartWith("$argon2id$");
    expect(row!.password_hash).not.toContain(sara.password);
    expect(row).toMatchObject({ role: "operator", lang: "fa" });
    await signInAs(a, "sara", sara.password);
    await signInAs(a, "SARA", sara.password);
    const wrong = await login("not her password", nextIp(), a, {}, "sara");
    const unknown = await login(sara.password, nextIp(), a, {}, "nobody-by-that-name");
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const sameBut = (html: string) => html.replace(/ value="[^"]*"/, "");
    expect(sameBut(await wrong.text())).toBe(sameBut(await unknown.text()));
    // The bootstrap account answers to its name too, in any case, and to an empty name.
    await signInAs(a, "ADMIN", ADMIN_TEST_PASSWORD);
    await signInAs(a, "", ADMIN_TEST_PASSWORD);
    // The sign-in records when; the list shows it.
    const [seen] = await t.sql<{ last_sign_in_at: Date | null }[]>`select last_sign_in_at from operators where id = ${sara.id}`;
    expect(seen!.last_sign_in_at).toBeInstanceOf(Date);
  });

  test("every operators route refuses a non-admin operator (403), derived from the router; the nav shows them only to admins", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const omid = await addOperator(a, admin, "omid");
    const target = await addOperator(a, admin, "target-of-omid");
    const s = await signInAs(a, "omid", omid.password);
    const routes = a.routes.filter((r) => r.path === "/admin/operators" || r.path.startsWith("/admin/operators/"));
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(["GET /admin/operators", "POST /admin/operators", "POST /admin/operators/:id/:action"]);
    const before = await t.sql`select * from operators order by id`;
    for (const r of routes) {
      for (const action of ["disable", "enable", "reset-password", "role"]) {
        const path = r.path.replace(":id", target.id).replace(":action", action);
        const fields = { name: "made-by-omid", role: "admin", lang: "en" };
        const res = r.method === "GET" ? await reqOn(a, "GET", path, { cookie: s.cookie }) : await post(a, s, path, fields);
        const where = `${r.method} ${path}`;
        expect([where, res.status]).toEqual([where, 403]);
        if (r.method === "POST") expect((await post(a, s, path, fields, true)).status).toBe(403); // a plain form too
      }
    }
    expect(await t.sql`select * from operators order by id`).toEqual(before);
    expect(await (await reqOn(a, "GET", "/admin", { cookie: s.cookie })).text()).not.toContain('href="/admin/operators"');
    expect(await (await reqOn(a, "GET", "/admin", { cookie: admin.cookie })).text()).toContain('href="/admin/operators"');
    // The same session is refused once more when its CSRF token is missing: the session guard decides first.
    expect((await reqOn(a, "POST", "/admin/operators", { cookie: s.cookie, headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=x" })).status).toBe(403);
  });

  test("a disabled operator's open session is refused at once; enabled again, they sign in anew (the old session stays ended)", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const nika = await addOperator(a, admin, "nika");
    const s = await signInAs(a, "nika", nika.password);
    expect((await reqOn(a, "GET", "/admin", { cookie: s.cookie })).status).toBe(200);
    const off = await post(a, admin, `/admin/operators/${nika.id}/disable`);
    expect(off.status).toBe(200);
    expect(await off.text()).toContain("nika is disabled");
    const page = await reqOn(a, "GET", "/admin", { cookie: s.cookie });
    expect([page.status, page.headers.get("location")]).toEqual([303, "/admin/login"]);
    const id = await submit();
    expect((await post(a, s, `/admin/ads/${id}/reject`, { reason: "too late" })).status).toBe(401);
    expect((await t.repo.get(id))!.state).toBe("pending");
    expect((await login(nika.password, nextIp(), a, {}, "nika")).status).toBe(401);
    // Also on another copy (the database is the truth), and without waiting for a restart.
    expect((await reqOn(appWith(ADMIN_TEST_PASSWORD), "GET", "/admin", { cookie: s.cookie })).status).toBe(303);
    expect((await post(a, admin, `/admin/operators/${nika.id}/enable`, {}, true)).status).toBe(303);
    expect((await reqOn(a, "GET", "/admin", { cookie: s.cookie })).status).toBe(303);
    await signInAs(a, "nika", nika.password);
  });

  test("a password reset shows the new password once and ends the operator's sessions; an admin cannot reset, disable or demote themselves here", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const [me] = await t.sql<{ id: string }[]>`select id::text as id from operators where name = 'admin'`;
    const reza = await addOperator(a, admin, "reza");
    const s = await signInAs(a, "reza", reza.password);
    const res = await post(a, admin, `/admin/operators/${reza.id}/reset-password`);
    expect(res.status).toBe(200);
    const fresh = passwordIn(await res.text())!;
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(reza.password);
    expect((await reqOn(a, "GET", "/admin", { cookie: s.cookie })).status).toBe(303);
    expect((await login(reza.password, nextIp(), a, {}, "reza")).status).toBe(401);
    await signInAs(a, "reza", fresh);
    // The list page never shows a password again.
    expect(passwordIn(await (await reqOn(a, "GET", "/admin/operators", { cookie: admin.cookie })).text())).toBeUndefined();
    for (const action of ["reset-password", "disable", "role"]) {
      const r = await post(a, admin, `/admin/operators/${me!.id}/${action}`, { role: "operator" });
      expect([action, r.status]).toEqual([action, 409]);
      expect(await r.text()).toContain("You cannot do this to your own account.");
    }
    expect((await reqOn(a, "GET", "/admin", { cookie: admin.cookie })).status).toBe(200);
    // Role changes are recorded; the role decides at once.
    expect((await post(a, admin, `/admin/operators/${reza.id}/role`, { role: "admin" })).status).toBe(200);
    const rs = await signInAs(a, "reza", fresh);
    expect((await reqOn(a, "GET", "/admin/operators", { cookie: rs.cookie })).status).toBe(200);
    expect((await post(a, admin, `/admin/operators/${reza.id}/role`, { role: "operator" })).status).toBe(200);
    expect((await reqOn(a, "GET", "/admin/operators", { cookie: rs.cookie })).status).toBe(403);
    expect((await post(a, admin, `/admin/operators/${reza.id}/role`, { role: "boss" })).status).toBe(422);
  });

  test("names: unique whatever the case, no reserved words, a plain shape; the refusal is said in the page's language", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    await addOperator(a, admin, "Leila");
    const dup = await post(a, admin, "/admin/operators", { name: "LEILA", role: "operator", lang: "en" });
    expect(dup.status).toBe(409);
    expect(await dup.text()).toContain("An operator with this name already exists.");
    for (const name of ["auto", "Poster", "operator", "bad name", "<b>", "", "x".repeat(41)]) {
      const r = await post(a, admin, "/admin/operators", { name, role: "operator", lang: "en" });
      expect([name, r.status]).toEqual([name, 422]);
    }
    const fa = await post(a, admin, "/admin/operators?lang=fa", { name: "leila", role: "operator", lang: "fa" });
    expect(fa.status).toBe(409);
    expect(await fa.text()).toContain("اپراتوری با این نام کاربری وجود دارد.");
    // A Persian name is a name.
    await addOperator(a, admin, "مریم");
    expect((await t.sql`select 1 from operators where name = 'مریم'`).length).toBe(1);
  });

  test("sign-in is throttled per name too: guesses from many addresses at one operator are slowed down", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const op = await addOperator(a, admin, "often-guessed");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await login("guess " + i, nextIp(), a, {}, "often-guessed")).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const right = await login(op.password, nextIp(), a, {}, "often-guessed");
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another name is not held up by it.
    await signInAs(a, "", ADMIN_TEST_PASSWORD);
  });

  test("two operators at once: each one's approvals and rejections carry their name in the history, the queue and the log", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const a = appWith(ADMIN_TEST_PASSWORD, {}, log);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const alice = await addOperator(a, admin, "alice");
    const bob = await addOperator(a, admin, "bob");
    const [sa, sb] = await Promise.all([signInAs(a, "alice", alice.password), signInAs(a, "bob", bob.password)]);
    const ids = await Promise.all(["Alice approves this", "Bob rejects this", "Alice rejects this", "Bob approves this"].map((d) => submit("vehicle-car-rear.jpg", d)));
    const [a1, b1, a2, b2] = ids as [string, string, string, string];
    const results = await Promise.all([
      post(a, sa, `/admin/ads/${a1}/approve`, { category: "car" }),
      post(a, sb, `/admin/ads/${b1}/reject`, { reason: "Blurry photo" }),
      post(a, sa, "/admin/bulk", { ids: [a2], action: "reject", reason: "Duplicate", state: "pending" }),
      post(a, sb, "/admin/bulk", { ids: [b2], action: "approve", state: "pending" }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const who = async (id: string) => ({ decided_by: (await t.repo.get(id))!.decided_by, actor: (await eventsOf(t.sql, id)).at(-1)!.actor });
    expect(await who(a1)).toEqual({ decided_by: "alice", actor: "alice" });
    expect(await who(b1)).toEqual({ decided_by: "bob", actor: "bob" });
    expect(await who(a2)).toEqual({ decided_by: "alice", actor: "alice" });
    expect(await who(b2)).toEqual({ decided_by: "bob", actor: "bob" });
    // The queue rows say who decided; the ad's page names them in its decision and history.
    const accepted = await (await reqOn(a, "GET", "/admin?state=accepted", { cookie: sa.cookie })).text();
    expect(rowOf(accepted, a1)).toContain(">alice</bdi>");
    expect(rowOf(accepted, b2)).toContain(">bob</bdi>");
    const rejected = await (await reqOn(a, "GET", "/admin?state=rejected", { cookie: sb.cookie })).text();
    expect(rowOf(rejected, b1)).toContain(">bob</bdi>");
    expect(rowOf(rejected, a2)).toContain(">alice</bdi>");
    const page = await (await reqOn(a, "GET", `/admin/ads/${b1}`, { cookie: sa.cookie })).text();
    const history = page.slice(page.indexOf('<ol class="history">'));
    expect(history).toContain(">bob</bdi>");
    expect(history).toContain("Blurry photo");
    expect(history).not.toContain(">alice</bdi>");
    // Reprocess and resend name them too.
    expect((await post(a, sa, `/admin/ads/${b1}/reprocess`)).status).toBe(200);
    expect((await eventsOf(t.sql, b1)).at(-1)).toMatchObject({ to_state: "pending", actor: "alice" });
    // The log lines name them (and the sign-ins).
    const logged = (msg: string, id: string) => lines.find((l) => l.msg === msg && l.ad_id === id)?.actor;
    expect([logged("operator approved an ad", a1), logged("operator rejected an ad", b1), logged("operator re-queued an ad", b1)]).toEqual(["alice", "bob", "alice"]);
    expect(lines.filter((l) => l.msg === "admin signed in").map((l) => l.operator)).toEqual(expect.arrayContaining(["admin", "alice", "bob"]));
  });

  test("search folds Arabic and Persian letters and digits: “كيا پرايد ۱۳۹۸” is found by “کیا پراید 1398” and by “پراید”", async () => {
    const { cookie } = await session();
    const id = await submit("none-cat.png", "كيا پرايد ۱۳۹۸، بی‌رنگ");
    const other = await submit("none-cat.png", "Peugeot 206, 1398");
    const search = async (q: string) => (await (await req("GET", `/admin?${new URLSearchParams({ state: "pending", q })}`, { cookie })).text());
    for (const q of ["کیا پراید 1398", "پراید", "كيا", "۱۳۹۸", "١٣٩٨", "بیرنگ", "پرايد"]) {
      const html = await search(q);
      expect([q, html.includes(`id="ad-${id}"`)]).toEqual([q, true]);
    }
    expect((await search("پراید")).includes(`id="ad-${other}"`)).toBe(false);
    expect((await search("1398")).includes(`id="ad-${other}"`)).toBe(true);
    expect((await search("پژو")).includes(`id="ad-${id}"`)).toBe(false);
  });

  test("the dashboard in the operator's language: Persian right to left with Solar Hijri dates; ?lang= and the page's own fragments override it; the account page changes it", async () => {
    const a = appWith(ADMIN_TEST_PASSWORD);
    const admin = await signInAs(a, "", ADMIN_TEST_PASSWORD);
    const ops = await addOperator(a, admin, "farsi-op", "operator", "fa");
    const s = await signInAs(a, "farsi-op", ops.password);
    const id = await submit("none-cat.png", "A page to read in Persian");
    await processNow(id);
    const get = async (path: string, headers: Record<string, string> = {}) => (await reqOn(a, "GET", path, { cookie: s.cookie, headers })).text();
    const queue = await get("/admin?state=rejected");
    expect(queue).toContain('<html lang="fa" dir="rtl">');
    expect(queue).toContain("<h1>آگهی‌ها</h1>");
    const detail = await get(`/admin/ads/${id}`);
    // A Solar Hijri date with Persian digits (the year ۱۴۰x), not a Gregorian one.
    const dates = [...detail.matchAll(/<time [^>]*class="date">([^<]+)<\/time>/g)].map((m) => m[1]!);
    expect(dates.length).toBeGreaterThan(2);
    for (const d of dates) expect(d).toMatch(/۱۴[۰-۹]{2}/);
    expect(detail).not.toMatch(/<time [^>]*class="date">[^<]*20\d\d/);
    expect(detail).toContain("بررسی خودکار"); // the automatic check, named in Persian in the history
    const en = await get(`/admin/ads/${id}?lang=en`);
    expect(en).toContain('<html lang="en" dir="ltr">');
    expect(en).toContain("automatic check");
    // A fragment htmx asks for on an English page comes back in English.
    const rows = await get("/admin/rows?state=rejected", { "hx-request": "true", "x-admin-lang": "en" });
    expect(rows).toMatch(/>\d+s ago<\/time>/);
    const rowsFa = await get("/admin/rows?state=rejected", { "hx-request": "true" });
    expect(rowsFa).toContain("پیش");
    // The operator's own choice, on the account page.
    const saved = await post(a, s, "/admin/account", { lang: "en", display_name: "Farsi Op" }, true);
    expect([saved.status, saved.headers.get("location")]).toEqual([303, "/admin/account?saved=1"]);
    const after = await get("/admin");
    expect(after).toContain('<html lang="en" dir="ltr">');
    expect(after).toContain(">Farsi Op</bdi>");
    expect((await post(a, s, "/admin/account", { lang: "de" }, true)).status).toBe(422);
    // The sign-in page follows the request's language.
    const loginFa = await (await reqOn(a, "GET", "/admin/login", { headers: { "accept-language": "fa-IR,fa;q=0.9" } })).text();
    expect(loginFa).toContain('<html lang="fa" dir="rtl">');
    expect(loginFa).toContain("نام کاربری");
  });
});
