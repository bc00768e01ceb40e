import { Elysia } from "elysia";
import { Html } from "@kitajs/html";
import adminCss from "../views/admin/admin.css" with { type: "file" };
import type { AdminAuth } from "../services/admin-auth";
import { sameToken } from "../services/admin-auth";
import { ADMIN_TABS, type AdminRepository, type AdminTab } from "../services/admin-repository";
import { InputError } from "../services/errors";
import type { Logger } from "../services/logger";
import { approveAd, bulkAction, rejectAd, reprocessAd, resendEmail, validateCategory, validateReason, type BulkAction, type ModerationDeps } from "../services/moderation";
import type { ImageStorage } from "../services/storage";
import { isAdId } from "../services/validation";
import { AdDetail } from "../views/admin/detail";
import { AdminPage, htmlResponse, LoginPage, type AdminSection } from "../views/admin/layout";
import { OutboxView } from "../views/admin/outbox";
import { OverviewView } from "../views/admin/overview";
import { QueueView, Rows, Tabs } from "../views/admin/queue";
import { clientAddress, requestIsHttps } from "./client-address";

export const SESSION_COOKIE = "ad_admin";

// The one script of the dashboard (a file, so the CSP needs no inline script): "select all" on a
// page of the list. Everything else is htmx attributes.
const ADMIN_JS = `document.addEventListener("change", function (e) {
  var t = e.target;
  if (t && t.id === "select-all") {
    document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = t.checked; });
  }
});
`;
const PAGE_SIZE = 25;

export interface AdminDeps {
  auth: AdminAuth;
  admin: AdminRepository;
  storage: ImageStorage;
  moderation: ModerationDeps;
  log: Logger;
  vehicleTag: string;
  threshold: number;
  /** Mark the session cookie Secure always (PUBLIC_BASE_URL is https); otherwise it is Secure when the request came over https. */
  secureCookies: boolean;
  /** TRUST_PROXY: the client is the last X-Forwarded-For hop, and X-Forwarded-Proto tells https (default false). */
  trustProxy?: boolean;
  sessionTtlMs: number;
  queueDepths: () => Promise<{ work: number; dead: number } | null>;
}

function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

function sessionCookie(deps: AdminDeps, request: Request, token: string, maxAgeS: number): string {
  const secure = deps.secureCookies || requestIsHttps(request, deps.trustProxy ?? false);
  return `${SESSION_COOKIE}=${token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? "; Secure" : ""}`;
}

const isHtmx = (request: Request) => request.headers.get("hx-request") === "true";

/** A cross-site request, by the browser's own account (absent on old browsers: allowed, the token still guards). */
function crossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

function asTab(v: unknown): AdminTab {
  return ADMIN_TABS.includes(v as AdminTab) ? (v as AdminTab) : "pending";
}

function parseCursor(v: unknown): { createdAt: Date; id: string } | undefined {
  if (typeof v !== "string") return undefined;
  const [at, id] = v.split("_");
  const d = new Date(at ?? "");
  return id && isAdId(id) && !Number.isNaN(d.getTime()) ? { createdAt: d, id } : undefined;
}

function text(v: FormDataEntryValue | null | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * The operators' dashboard under /admin. Sign-in is open; every other /admin route is behind the
 * session check registered before it (Elysia applies a hook to the routes defined after it), and
 * every state-changing request also needs the session's CSRF token and a same-origin fetch.
 */
export function adminRoutes(deps: AdminDeps) {
  const page = (title: string, csrf: string, section: AdminSection, body: JSX.Element, status = 200) =>
    htmlResponse(
      <AdminPage title={title} csrf={csrf} section={section}>
        {body}
      </AdminPage>,
      { status },
    );
  const asset = (path: string, type: string) => () => new Response(Bun.file(path), { headers: { "content-type": type, "cache-control": "public, max-age=3600" } });

  /** A list view's parameters, from a query string or a form. */
  const listParams = (q: { state?: unknown; q?: unknown; before?: unknown }) => ({
    state: asTab(q.state),
    search: typeof q.q === "string" && q.q.trim() ? q.q.trim().slice(0, 200) : undefined,
    before: typeof q.before === "string" ? q.before : undefined,
  });

  const queue = async (q: { state?: unknown; q?: unknown; before?: unknown }, csrf: string, flash?: string) => {
    const { state, search, before } = listParams(q);
    const [counts, list] = await Promise.all([deps.admin.counts(), deps.admin.list({ state, q: search, before: parseCursor(before), limit: PAGE_SIZE })]);
    return <QueueView state={state} q={search} before={before} counts={counts} rows={list.rows} more={list.more} flash={flash} csrf={csrf} />;
  };

  const detail = async (id: string, csrf: string, extra: { flash?: string; error?: string } = {}) => {
    const d = await deps.admin.detail(id);
    if (!d) return null;
    return <AdDetail {...d} vehicleTag={deps.vehicleTag} threshold={deps.threshold} csrf={csrf} {...extra} />;
  };

  const outboxStatus = (v: unknown) => (["queued", "sending", "sent", "failed"].includes(String(v)) ? String(v) : undefined);
  const outbox = async (q: { status?: unknown; before?: unknown }, csrf: string, extra: { flash?: string; error?: string } = {}) => {
    const status = outboxStatus(q.status);
    const beforeId = typeof q.before === "string" && /^\d{1,18}$/.test(q.before) ? q.before : undefined;
    const { rows, more } = await deps.admin.outbox({ status, beforeId, limit: 50 });
    return <OutboxView rows={rows} more={more} status={status} csrf={csrf} {...extra} />;
  };

  const actor = "operator";

  return (
    new Elysia({ name: "admin" })
      .get("/admin-assets/admin.css", asset(adminCss, "text/css; charset=utf-8"), { detail: { hide: true } })
      .get("/admin-assets/admin.js", () => new Response(ADMIN_JS, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } }), {
        detail: { hide: true },
      })
      .get("/admin/login", ({ query }) => htmlResponse(<LoginPage status={query.signedout ? "You are signed out." : undefined} />), { detail: { hide: true } })
      .post(
        "/admin/login",
        async ({ request, server }) => {
          if (crossSite(request)) return new Response("Cross-site request refused", { status: 403 });
          const form = await request.formData().catch(() => null);
          const password = text(form?.get("password")) ?? "";
          const client = clientAddress(request, server, deps.trustProxy ?? false);
          const result = await deps.auth.login(password.slice(0, 200), client);
          if (!result.ok) {
            const throttled = result.reason === "throttled";
            deps.log.warn("admin sign-in refused", { reason: result.reason, client });
            return htmlResponse(<LoginPage error={throttled ? "Too many attempts; wait a minute and try again." : "Wrong password."} />, {
              status: throttled ? 429 : 401,
              headers: throttled ? { "retry-after": String(result.retryAfterS ?? 60) } : {},
            });
          }
          deps.log.info("admin signed in", { client });
          // A fresh token on every sign-in (no session fixation).
          return new Response(null, {
            status: 303,
            headers: { location: "/admin", "set-cookie": sessionCookie(deps, request, result.token, Math.round(deps.sessionTtlMs / 1000)) },
          });
        },
        { parse: "none", detail: { hide: true } },
      )
      // ---- everything below requires a session ----
      .resolve(async ({ request }) => ({ session: await deps.auth.session(readCookie(request, SESSION_COOKIE)) }))
      .onBeforeHandle(async ({ request, session }) => {
        if (!session) {
          if (request.method === "GET" && !isHtmx(request)) return new Response(null, { status: 303, headers: { location: "/admin/login" } });
          return new Response("Sign in first", { status: 401, headers: { "hx-redirect": "/admin/login" } });
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
          if (crossSite(request)) return new Response("Cross-site request refused", { status: 403 });
          let token = request.headers.get("x-csrf-token");
          if (!token) token = text((await request.clone().formData().catch(() => null))?.get("_csrf")) ?? null;
          if (!sameToken(token, session.csrf)) return new Response("Missing or wrong CSRF token", { status: 403 });
        }
      })
      .get(
        "/admin",
        async ({ query, session }) => {
          return page("Ads", session!.csrf, "queue", await queue(query, session!.csrf));
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/tabs",
        async ({ query }) => {
          const { state, search } = listParams(query);
          return htmlResponse(<Tabs state={state} q={search} counts={await deps.admin.counts()} />);
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/rows",
        async ({ query }) => {
          const { state, search, before } = listParams(query);
          const list = await deps.admin.list({ state, q: search, before: parseCursor(before), limit: PAGE_SIZE });
          return htmlResponse(<Rows state={state} q={search} before={before} rows={list.rows} more={list.more} />);
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/ads/:id",
        async ({ params, session }) => {
          const body = await detail(params.id, session!.csrf);
          if (!body) return page("Not found", session!.csrf, "queue", <p class="empty">No ad with this id.</p>, 404);
          return page("Ad", session!.csrf, "queue", body);
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/ads/:id/image",
        async ({ params }) => {
          const ad = await deps.admin.imageOf(params.id);
          const obj = ad ? await deps.storage.get(ad.image_key) : null;
          if (!ad || !obj) return new Response("Not found", { status: 404 });
          return new Response(obj.bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": ad.image_content_type, "cache-control": "private, max-age=300" } });
        },
        { detail: { hide: true } },
      )
      .post(
        "/admin/ads/:id/:action",
        async ({ params, request, session }) => {
          const form = await request.formData().catch(() => null);
          const id = params.id;
          let flash: string;
          let error: string | undefined;
          try {
            if (!isAdId(id)) throw new InputError(404, "not_found", "No ad with this id");
            if (params.action === "approve") {
              const category = validateCategory(form?.get("category"));
              flash = (await approveAd(deps.moderation, id, category, actor)) ? `Approved as "${category}"; the poster will be e-mailed.` : "Already approved as that.";
            } else if (params.action === "reject") {
              const reason = validateReason(form?.get("reason"), "The photo does not show a vehicle.");
              flash = (await rejectAd(deps.moderation, id, reason, actor)) ? "Rejected; the poster will be e-mailed." : "Already rejected.";
            } else if (params.action === "reprocess") {
              await reprocessAd(deps.moderation, id, actor);
              flash = "Sent back for tagging.";
            } else {
              return new Response("Unknown action", { status: 404 });
            }
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            if (err.status === 404) return new Response("Not found", { status: 404 });
            flash = "";
            error = err.message;
          }
          if (!isHtmx(request)) return new Response(null, { status: 303, headers: { location: `/admin/ads/${id}` } });
          const body = await detail(id, session!.csrf, { flash: flash || undefined, error });
          return htmlResponse(body ?? <p>Not found</p>, { status: error ? 422 : 200 });
        },
        { parse: "none", detail: { hide: true } },
      )
      .post(
        "/admin/bulk",
        async ({ request, session }) => {
          const form = await request.formData().catch(() => null);
          const ids = (form?.getAll("ids") ?? []).filter((v): v is string => typeof v === "string" && isAdId(v)).slice(0, 200);
          const action = text(form?.get("action")) as BulkAction | undefined;
          let flash: string;
          if (!ids.length) flash = "Select at least one ad first.";
          else if (action !== "approve" && action !== "reject" && action !== "reprocess") flash = "Unknown action.";
          else {
            let reason = "The photo does not show a vehicle.";
            try {
              reason = validateReason(form?.get("reason"), reason);
            } catch (err) {
              if (!(err instanceof InputError)) throw err;
            }
            const n = await bulkAction(deps.moderation, ids, action, reason, actor);
            flash = `${action === "approve" ? "Approved" : action === "reject" ? "Rejected" : "Re-queued"} ${n} of ${ids.length} selected ads.`;
          }
          const q = { state: text(form?.get("state")), q: text(form?.get("q")) };
          if (!isHtmx(request)) return new Response(null, { status: 303, headers: { location: `/admin?${new URLSearchParams({ state: asTab(q.state) })}` } });
          return htmlResponse(await queue(q, session!.csrf, flash));
        },
        { parse: "none", detail: { hide: true } },
      )
      .get(
        "/admin/overview",
        async ({ session }) => {
          const [o, depth] = await Promise.all([deps.admin.overview(), deps.queueDepths()]);
          return page("Overview", session!.csrf, "overview", <OverviewView o={o} queueDepth={depth} />);
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/outbox",
        async ({ query, session }) => {
          return page("Outbox", session!.csrf, "outbox", await outbox(query, session!.csrf));
        },
        { detail: { hide: true } },
      )
      .post(
        // Queues a failed e-mail again (from the ad's page, `from=ad&ad=<id>`, or the outbox, `from=outbox`).
        "/admin/emails/:id/resend",
        async ({ params, request, session }) => {
          const form = await request.formData().catch(() => null);
          if (!/^\d{1,18}$/.test(params.id)) return new Response("Not found", { status: 404 });
          const csrf = session!.csrf;
          const adId = text(form?.get("ad"));
          const fromAd = text(form?.get("from")) === "ad" && adId !== undefined && isAdId(adId);
          const status = outboxStatus(text(form?.get("status")));
          const back = fromAd ? `/admin/ads/${adId}` : `/admin/outbox${status ? `?status=${status}` : ""}`;
          const done = await resendEmail(deps.moderation, params.id, actor);
          if (done && !isHtmx(request)) return new Response(null, { status: 303, headers: { location: back } });
          const note = done ? { flash: "E-mail queued again; it goes out shortly." } : { error: "This e-mail cannot be re-sent: it is no longer failed, or a newer e-mail replaced it." };
          const code = done ? 200 : 409;
          const body = fromAd ? await detail(adId, csrf, note) : await outbox({ status }, csrf, note);
          if (!body) return new Response("Not found", { status: 404 });
          if (isHtmx(request)) return htmlResponse(body, { status: code });
          return page(fromAd ? "Ad" : "Outbox", csrf, fromAd ? "queue" : "outbox", body, code);
        },
        { parse: "none", detail: { hide: true } },
      )
      .post(
        "/admin/logout",
        async ({ request }) => {
          await deps.auth.logout(readCookie(request, SESSION_COOKIE));
          return new Response(null, { status: 303, headers: { location: "/admin/login?signedout=1", "set-cookie": sessionCookie(deps, request, "", 0) } });
        },
        { parse: "none", detail: { hide: true } },
      )
  );
}
