/**
 * The operators' dashboard's route table: sign-in and sign-out, the guard every state change
 * passes (session, Sec-Fetch-Site, CSRF — deciding before the body is validated), the queue, an
 * ad's page, its image, the actions, the overview and the outbox. The request plumbing the
 * routes share is in ./http.ts. Every route and the guard stay in this one file: the tests derive
 * the list of admin routes from this router and check each one refuses a request without a session.
 */
import { Html } from "@elysiajs/html";
import { Elysia } from "elysia";
import adminCss from "../../views/admin/admin.css" with { type: "file" };
import type { AdminAuth } from "../../admin/auth";
import { sameToken } from "../../admin/auth";
import { ADMIN_TABS, type AdminRepository, type AdminTab } from "../../database/admin-repository";
import type { DecisionRule } from "../../domain/decision";
import { InputError } from "../../domain/errors";
import type { Logger } from "../../platform/logger";
import { approveAd, bulkAction, rejectAd, reprocessAd, resendEmail, validateCategory, validateReason, type BulkAction, type ModerationDeps } from "../../domain/moderation";
import type { ImageStorage } from "../../storage/storage";
import { isAdId } from "../../domain/validation";
import { AdDetail } from "../../views/admin/detail";
import { AdminPage, LoginPage, type AdminSection } from "../../views/admin/layout";
import { OutboxView } from "../../views/admin/outbox";
import { OverviewView } from "../../views/admin/overview";
import { QueueView, Rows, Tabs } from "../../views/admin/queue";
import { htmlPlugin } from "../answer";
import { clientAddress } from "../client-address";
import { ActionForm, BulkForm, changesState, crossSite, crossSiteRefused, csrfField, isHtmx, LoginForm, LogoutForm, noStore, ResendForm, seeOther, sessionToken, setSessionCookie, stop, unreadableAsNull } from "./http";

export { SESSION_COOKIE } from "./http";


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
  ads: AdminRepository;
  storage: ImageStorage;
  moderation: ModerationDeps;
  log: Logger;
  rule: DecisionRule;
  /** Mark the session cookie Secure always (PUBLIC_BASE_URL is https); otherwise it is Secure when the request came over https. */
  secureCookies: boolean;
  /** TRUST_PROXY: the client is the last X-Forwarded-For hop, and X-Forwarded-Proto tells https (default false). */
  trustProxy?: boolean;
  sessionTtlMs: number;
  queueDepths: () => Promise<{ work: number; dead: number } | null>;
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

/**
 * The operators' dashboard under /admin. Sign-in is open; every other /admin route is behind the
 * session guard registered before it (Elysia applies a hook to the routes defined after it), and
 * every state-changing request also needs the session's CSRF token and a same-origin fetch. The
 * pages are JSX, made responses by @elysiajs/html.
 */
export function adminRoutes(deps: AdminDeps) {
  const page = (title: string, csrf: string, section: AdminSection, body: JSX.Element) => (
    <AdminPage title={title} csrf={csrf} section={section}>
      {body}
    </AdminPage>
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
    const [counts, list] = await Promise.all([deps.ads.counts(), deps.ads.list({ state, q: search, before: parseCursor(before), limit: PAGE_SIZE })]);
    return <QueueView state={state} q={search} before={before} counts={counts} rows={list.rows} more={list.more} flash={flash} csrf={csrf} />;
  };

  const detail = async (id: string, csrf: string, extra: { flash?: string; error?: string } = {}) => {
    const d = await deps.ads.detail(id);
    if (!d) return null;
    return <AdDetail {...d} rule={deps.rule} csrf={csrf} {...extra} />;
  };

  const outboxStatus = (v: unknown) => (["queued", "sending", "sent", "failed"].includes(String(v)) ? String(v) : undefined);
  const outbox = async (q: { status?: unknown; before?: unknown }, csrf: string, extra: { flash?: string; error?: string } = {}) => {
    const status = outboxStatus(q.status);
    const beforeId = typeof q.before === "string" && /^\d{1,18}$/.test(q.before) ? q.before : undefined;
    const { rows, more } = await deps.ads.outbox({ status, beforeId, limit: 50 });
    return <OutboxView rows={rows} more={more} status={status} csrf={csrf} {...extra} />;
  };

  const actor = "operator";

  const signIn = new Elysia()
    .use(htmlPlugin)
    .onParse(unreadableAsNull)
    .onTransform(noStore)
    .get("/admin-assets/admin.css", asset(adminCss, "text/css; charset=utf-8"), { detail: { hide: true } })
    .get("/admin-assets/admin.js", () => new Response(ADMIN_JS, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } }), {
      detail: { hide: true },
    })
    .get("/admin/login", ({ query }) => <LoginPage status={query.signedout ? "You are signed out." : undefined} />, { detail: { hide: true } })
    // A cross-site sign-in is refused before its body is read or validated.
    .derive(({ request }) => (changesState(request) && crossSite(request) ? stop(crossSiteRefused()) : {}))
    .post(
      "/admin/login",
      async ({ body, request, server, cookie, set }) => {
        const password = body?.password ?? "";
        const client = clientAddress(request, server, deps.trustProxy ?? false);
        const result = await deps.auth.login(password.slice(0, 200), client);
        if (!result.ok) {
          const throttled = result.reason === "throttled";
          deps.log.warn("admin sign-in refused", { reason: result.reason, client });
          set.status = throttled ? 429 : 401;
          if (throttled) set.headers["retry-after"] = String(result.retryAfterS ?? 60);
          return <LoginPage error={throttled ? "Too many attempts; wait a minute and try again." : "Wrong password."} />;
        }
        deps.log.info("admin signed in", { client });
        // A fresh token on every sign-in (no session fixation).
        setSessionCookie(deps, cookie, request, result.token, Math.round(deps.sessionTtlMs / 1000));
        return seeOther("/admin");
      },
      { body: LoginForm, detail: { hide: true } },
    );

  return (
    new Elysia({ name: "admin" })
      .use(signIn)
      .use(htmlPlugin)
      .onParse(unreadableAsNull)
      .onTransform(noStore)
      // ---- everything below requires a session ----
      // The guard: the session, then for a state change a same-origin fetch and the CSRF token
      // (the header, or a plain form's `_csrf` field), all decided before the body is validated.
      .derive(async ({ request, cookie, body }) => {
        const session = await deps.auth.session(sessionToken(cookie));
        if (!session) {
          if (request.method === "GET" && !isHtmx(request)) return stop(new Response(null, { status: 303, headers: { location: "/admin/login" } }));
          return stop(new Response("Sign in first", { status: 401, headers: { "hx-redirect": "/admin/login" } }));
        }
        if (changesState(request)) {
          if (crossSite(request)) return stop(crossSiteRefused());
          const token = request.headers.get("x-csrf-token") || csrfField(body);
          if (!sameToken(token, session.csrf)) return stop(new Response("Missing or wrong CSRF token", { status: 403 }));
        }
        return { session };
      })
      .get("/admin", async ({ query, session }) => page("Ads", session.csrf, "queue", await queue(query, session.csrf)), { detail: { hide: true } })
      .get(
        "/admin/tabs",
        async ({ query }) => {
          const { state, search } = listParams(query);
          return <Tabs state={state} q={search} counts={await deps.ads.counts()} />;
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/rows",
        async ({ query }) => {
          const { state, search, before } = listParams(query);
          const list = await deps.ads.list({ state, q: search, before: parseCursor(before), limit: PAGE_SIZE });
          return <Rows state={state} q={search} before={before} rows={list.rows} more={list.more} />;
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/ads/:id",
        async ({ params, session, set }) => {
          const view = await detail(params.id, session.csrf);
          if (view) return page("Ad", session.csrf, "queue", view);
          set.status = 404;
          return page("Not found", session.csrf, "queue", <p class="empty">No ad with this id.</p>);
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/ads/:id/image",
        async ({ params }) => {
          const ad = await deps.ads.imageOf(params.id);
          const obj = ad ? await deps.storage.get(ad.image_key) : null;
          if (!ad || !obj) return new Response("Not found", { status: 404 });
          return new Response(obj.bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": ad.image_content_type, "cache-control": "private, max-age=300" } });
        },
        { detail: { hide: true } },
      )
      .post(
        "/admin/ads/:id/:action",
        async ({ params, body, request, session, set }) => {
          const id = params.id;
          let flash: string;
          let error: string | undefined;
          try {
            if (!isAdId(id)) throw new InputError("unknown", "not_found", "No ad with this id");
            if (params.action === "approve") {
              const category = validateCategory(body?.category);
              flash = (await approveAd(deps.moderation, id, category, actor)) ? `Approved as "${category}"; the poster will be e-mailed.` : "Already approved as that.";
            } else if (params.action === "reject") {
              const reason = validateReason(body?.reason);
              flash = (await rejectAd(deps.moderation, id, reason, actor)) ? "Rejected; the poster will be e-mailed." : "Already rejected.";
            } else if (params.action === "reprocess") {
              await reprocessAd(deps.moderation, id, actor);
              flash = "Sent back for tagging.";
            } else {
              return new Response("Unknown action", { status: 404 });
            }
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            if (err.problem === "unknown") return new Response("Not found", { status: 404 });
            flash = "";
            error = err.message;
          }
          if (!isHtmx(request)) return seeOther(`/admin/ads/${id}`);
          if (error) set.status = 422;
          return (await detail(id, session.csrf, { flash: flash || undefined, error })) ?? <p>Not found</p>;
        },
        { body: ActionForm, detail: { hide: true } },
      )
      .post(
        "/admin/bulk",
        async ({ body, request, session }) => {
          const ids = [body?.ids ?? []].flat().filter(isAdId).slice(0, 200);
          const action = body?.action as BulkAction | undefined;
          let flash: string;
          if (!ids.length) flash = "Select at least one ad first.";
          else if (action !== "approve" && action !== "reject" && action !== "reprocess") flash = "Unknown action.";
          else {
            let reason: string | null = null;
            try {
              reason = validateReason(body?.reason);
            } catch (err) {
              if (!(err instanceof InputError)) throw err;
            }
            const n = await bulkAction(deps.moderation, ids, action, reason, actor);
            flash = `${action === "approve" ? "Approved" : action === "reject" ? "Rejected" : "Re-queued"} ${n} of ${ids.length} selected ads.`;
          }
          const q = { state: body?.state, q: body?.q };
          if (!isHtmx(request)) return seeOther(`/admin?${new URLSearchParams({ state: asTab(q.state) })}`);
          return queue(q, session.csrf, flash);
        },
        { body: BulkForm, detail: { hide: true } },
      )
      .get(
        "/admin/overview",
        async ({ session }) => {
          const [o, depth] = await Promise.all([deps.ads.overview(), deps.queueDepths()]);
          return page("Overview", session.csrf, "overview", <OverviewView o={o} queueDepth={depth} />);
        },
        { detail: { hide: true } },
      )
      .get("/admin/outbox", async ({ query, session }) => page("Outbox", session.csrf, "outbox", await outbox(query, session.csrf)), { detail: { hide: true } })
      .post(
        // Queues a failed e-mail again (from the ad's page, `from=ad&ad=<id>`, or the outbox, `from=outbox`).
        "/admin/emails/:id/resend",
        async ({ params, body, request, session, set }) => {
          if (!/^\d{1,18}$/.test(params.id)) return new Response("Not found", { status: 404 });
          const csrf = session.csrf;
          const adId = body?.ad;
          const fromAd = body?.from === "ad" && adId !== undefined && isAdId(adId);
          const filter = outboxStatus(body?.status);
          const back = fromAd ? `/admin/ads/${adId}` : `/admin/outbox${filter ? `?status=${filter}` : ""}`;
          const done = await resendEmail(deps.moderation, params.id, actor);
          if (done && !isHtmx(request)) return seeOther(back);
          const note = done ? { flash: "E-mail queued again; it goes out shortly." } : { error: "This e-mail cannot be re-sent: it is no longer failed, or a newer e-mail replaced it." };
          const view = fromAd ? await detail(adId, csrf, note) : await outbox({ status: filter }, csrf, note);
          if (!view) return new Response("Not found", { status: 404 });
          set.status = done ? 200 : 409;
          if (isHtmx(request)) return view;
          return page(fromAd ? "Ad" : "Outbox", csrf, fromAd ? "queue" : "outbox", view);
        },
        { body: ResendForm, detail: { hide: true } },
      )
      .post(
        "/admin/logout",
        async ({ cookie, request }) => {
          await deps.auth.logout(sessionToken(cookie));
          setSessionCookie(deps, cookie, request, "", 0);
          return seeOther("/admin/login?signedout=1");
        },
        { body: LogoutForm, detail: { hide: true } },
      )
  );
}
