/**
 * The operators' dashboard's route table: sign-in and sign-out, the guard every state change
 * passes (session, Sec-Fetch-Site, CSRF — deciding before the body is validated), the queue, an
 * ad's page, its image, the actions, the overview, the outbox, the operator's own account, and
 * (behind a second guard: role admin) the operators page. The request plumbing the routes share
 * is in ./http.ts, their messages for domain errors in ./messages.ts. Every route and both guards
 * stay in this one file: the tests derive the list of admin routes from this router and check
 * each one refuses a request without a session, and each operators route a non-admin.
 * (Over 300 lines because it is the one route table.)
 */
import { Html } from "@elysiajs/html";
import { Elysia } from "elysia";
import adminCss from "../../views/admin/admin.css" with { type: "file" };
import type { AdminAuth, AdminSession, SessionOperator } from "../../admin/auth";
import { sameToken } from "../../admin/auth";
import { OperatorError, parseOperatorLang, validateDisplayName, type Operators } from "../../admin/operators";
import { ADMIN_TABS, type AdminRepository, type AdminTab } from "../../database/admin-repository";
import type { DecisionRule } from "../../domain/decision";
import { InputError } from "../../domain/errors";
import { parseLang, t, type Lang } from "../../i18n";
import type { Logger } from "../../platform/logger";
import { approveAd, bulkAction, rejectAd, reprocessAd, resendEmail, validateCategory, validateReason, type BulkAction, type ModerationDeps } from "../../domain/moderation";
import type { ImageStorage } from "../../storage/storage";
import { isAdId } from "../../domain/validation";
import { AdDetail } from "../../views/admin/detail";
import { AdminPage, LoginPage, type AdminSection } from "../../views/admin/layout";
import { AccountView, OperatorsView, type ShownPassword } from "../../views/admin/operators";
import { OUTBOX_STATUSES, OutboxView } from "../../views/admin/outbox";
import { OverviewView } from "../../views/admin/overview";
import { QueueView, Rows, Tabs } from "../../views/admin/queue";
import { htmlPlugin } from "../answer";
import { clientAddress } from "../client-address";
import { requestLang } from "../lang";
import { ActionForm, BulkForm, changesState, crossSite, csrfField, isHtmx, LoginForm, LogoutForm, noStore, OperatorForm, ResendForm, seeOther, sessionToken, setSessionCookie, stop, unreadableAsNull } from "./http";
import { inputMessage, operatorMessage, operatorStatus } from "./messages";

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
/** The routes only an operator with the admin role may use: the operators page and its actions. */
const ADMIN_ONLY = /^\/admin\/operators(\/|$)/;

export interface AdminDeps {
  auth: AdminAuth;
  /** The team: adding, disabling, resetting, changing roles (the operators page). */
  operators: Operators;
  /** DEFAULT_LANGUAGE: the sign-in page's language when the request does not choose one. */
  defaultLanguage: Lang;
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
 * A signed-in page's language: `?lang=` on this request, else the page's own language that htmx
 * sends with each of its requests (X-Admin-Lang, so fragments match the page), else the
 * operator's preference.
 */
function pageLang(request: Request, operator: SessionOperator): Lang {
  const q = request.url.includes("lang=") ? new URL(request.url).searchParams.get("lang") : null;
  return parseLang(q) ?? parseLang(request.headers.get("x-admin-lang")) ?? operator.lang;
}

const text = (body: string, status: number, headers: Record<string, string> = {}) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });

/**
 * The operators' dashboard under /admin. Sign-in is open (an instance of its own); every other
 * /admin route is on the instance whose guard (a derive: it applies to every route of its
 * instance) wants a session, and for every state-changing request the session's CSRF token and
 * a same-origin fetch; the operators page also the admin role. Pages are JSX in the operator's
 * language, made responses by @elysiajs/html.
 */
export function adminRoutes(deps: AdminDeps) {
  type Ctx = { lang: Lang; session: AdminSession; operator: SessionOperator };
  const page = (c: Ctx, title: string, section: AdminSection, body: JSX.Element) => (
    <AdminPage lang={c.lang} title={title} csrf={c.session.csrf} section={section} operator={c.operator}>
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

  const queue = async (q: { state?: unknown; q?: unknown; before?: unknown }, c: Ctx, flash?: string) => {
    const { state, search, before } = listParams(q);
    const [counts, list] = await Promise.all([deps.ads.counts(), deps.ads.list({ state, q: search, before: parseCursor(before), limit: PAGE_SIZE })]);
    return <QueueView state={state} q={search} before={before} counts={counts} rows={list.rows} more={list.more} flash={flash} csrf={c.session.csrf} lang={c.lang} />;
  };

  const detail = async (id: string, c: Ctx, extra: { flash?: string; error?: string } = {}) => {
    const d = await deps.ads.detail(id);
    if (!d) return null;
    return <AdDetail {...d} rule={deps.rule} csrf={c.session.csrf} lang={c.lang} {...extra} />;
  };

  const outboxStatus = (v: unknown) => ((OUTBOX_STATUSES as readonly unknown[]).includes(v) ? String(v) : undefined);
  const outbox = async (q: { status?: unknown; before?: unknown }, c: Ctx, extra: { flash?: string; error?: string } = {}) => {
    const status = outboxStatus(q.status);
    const beforeId = typeof q.before === "string" && /^\d{1,18}$/.test(q.before) ? q.before : undefined;
    const { rows, more } = await deps.ads.outbox({ status, beforeId, limit: 50 });
    return <OutboxView rows={rows} more={more} status={status} csrf={c.session.csrf} lang={c.lang} {...extra} />;
  };

  const operators = async (c: Ctx, extra: { flash?: string; error?: string; shown?: ShownPassword } = {}) => (
    <OperatorsView rows={await deps.operators.repo.list()} me={c.operator} csrf={c.session.csrf} lang={c.lang} {...extra} />
  );
  /** The operators view as the answer: the fragment for htmx, else the whole page. */
  const operatorsAnswer = async (c: Ctx, request: Request, extra: { flash?: string; error?: string; shown?: ShownPassword }) => {
    const view = await operators(c, extra);
    return isHtmx(request) ? view : page(c, t(c.lang).admin.operators.heading, "operators", view);
  };

  const signIn = new Elysia()
    .use(htmlPlugin)
    .onParse(unreadableAsNull)
    .onTransform(noStore)
    .get("/admin-assets/admin.css", asset(adminCss, "text/css; charset=utf-8"), { detail: { hide: true } })
    .get("/admin-assets/admin.js", () => new Response(ADMIN_JS, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } }), {
      detail: { hide: true },
    })
    .get(
      "/admin/login",
      ({ query, request }) => {
        const lang = requestLang(request, deps.defaultLanguage);
        return <LoginPage lang={lang} status={query.signedout ? t(lang).admin.login.signedOut : undefined} />;
      },
      { detail: { hide: true } },
    )
    // A cross-site sign-in is refused before its body is read or validated.
    .derive(({ request }) => (changesState(request) && crossSite(request) ? stop(text(t(requestLang(request, deps.defaultLanguage)).admin.login.crossSite, 403)) : {}))
    .post(
      "/admin/login",
      async ({ body, request, server, cookie, set }) => {
        const lang = requestLang(request, deps.defaultLanguage);
        const name = (body?.name ?? "").slice(0, 60);
        const client = clientAddress(request, server, deps.trustProxy ?? false);
        const result = await deps.auth.login(name, (body?.password ?? "").slice(0, 200), client);
        if (!result.ok) {
          const throttled = result.reason === "throttled";
          deps.log.warn("admin sign-in refused", { reason: result.reason, client });
          set.status = throttled ? 429 : 401;
          if (throttled) set.headers["retry-after"] = String(result.retryAfterS ?? 60);
          const m = t(lang).admin.login;
          return <LoginPage lang={lang} name={name} error={throttled ? m.throttled : m.wrongPassword} />;
        }
        deps.log.info("admin signed in", { client, operator: result.operator.name, role: result.operator.role });
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
      // (the header, or a plain form's `_csrf` field), and for the operators page the admin role,
      // all decided before the body is validated. (A derive applies to every route of this
      // instance, whichever side of it they are registered on, so the role check is by path.)
      .derive(async ({ request, cookie, body }) => {
        const session = await deps.auth.session(sessionToken(cookie));
        if (!session) {
          if (request.method === "GET" && !isHtmx(request)) return stop(new Response(null, { status: 303, headers: { location: "/admin/login" } }));
          return stop(text(t(requestLang(request, deps.defaultLanguage)).admin.login.signInFirst, 401, { "hx-redirect": "/admin/login" }));
        }
        const operator = session.operator;
        const lang = pageLang(request, operator);
        if (changesState(request)) {
          if (crossSite(request)) return stop(text(t(lang).admin.login.crossSite, 403));
          const token = request.headers.get("x-csrf-token") || csrfField(body);
          if (!sameToken(token, session.csrf)) return stop(text(t(lang).admin.login.badCsrf, 403));
        }
        if (operator.role !== "admin" && ADMIN_ONLY.test(new URL(request.url).pathname)) {
          const m = t(lang).admin.operators;
          if (request.method !== "GET" || isHtmx(request)) return stop(text(m.forbidden, 403));
          const refusal = await page({ lang, session, operator }, m.heading, "operators", <p class="error" role="alert">{m.forbidden}</p>);
          return stop(new Response(refusal, { status: 403, headers: { "content-type": "text/html; charset=utf-8" } }));
        }
        return { session, operator, lang };
      })
      .get("/admin", async ({ query, ...c }) => page(c, t(c.lang).admin.queue.heading, "queue", await queue(query, c)), { detail: { hide: true } })
      .get(
        "/admin/tabs",
        async ({ query, lang }) => {
          const { state, search } = listParams(query);
          return <Tabs state={state} q={search} counts={await deps.ads.counts()} lang={lang} />;
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/rows",
        async ({ query, lang }) => {
          const { state, search, before } = listParams(query);
          const list = await deps.ads.list({ state, q: search, before: parseCursor(before), limit: PAGE_SIZE });
          return <Rows state={state} q={search} before={before} rows={list.rows} more={list.more} lang={lang} />;
        },
        { detail: { hide: true } },
      )
      .get(
        "/admin/ads/:id",
        async ({ params, set, ...c }) => {
          const m = t(c.lang).admin;
          const view = await detail(params.id, c);
          if (view) return page(c, m.detail.heading, "queue", view);
          set.status = 404;
          return page(c, m.flash.notFound, "queue", <p class="empty">{t(c.lang).errors.adNotFound}</p>);
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
        async ({ params, body, request, set, ...c }) => {
          const id = params.id;
          const f = t(c.lang).admin.flash;
          const actor = c.operator.name;
          let flash: string | undefined;
          let error: string | undefined;
          try {
            if (!isAdId(id)) throw new InputError("unknown", "not_found", "No ad with this id");
            if (params.action === "approve") {
              const category = validateCategory(body?.category);
              flash = (await approveAd(deps.moderation, id, category, actor)) ? f.approvedAs(category) : f.alreadyApproved;
            } else if (params.action === "reject") {
              const reason = validateReason(body?.reason);
              flash = (await rejectAd(deps.moderation, id, reason, actor)) ? f.rejected : f.alreadyRejected;
            } else if (params.action === "reprocess") {
              await reprocessAd(deps.moderation, id, actor);
              flash = f.sentBack;
            } else {
              return text(f.unknownAction, 404);
            }
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            if (err.problem === "unknown") return text(f.notFound, 404);
            error = inputMessage(c.lang, err);
          }
          if (!isHtmx(request)) return seeOther(`/admin/ads/${id}`);
          if (error) set.status = 422;
          return (await detail(id, c, { flash, error })) ?? <p>{f.notFound}</p>;
        },
        { body: ActionForm, detail: { hide: true } },
      )
      .post(
        "/admin/bulk",
        async ({ body, request, ...c }) => {
          const f = t(c.lang).admin.flash;
          const ids = [body?.ids ?? []].flat().filter(isAdId).slice(0, 200);
          const action = body?.action as BulkAction | undefined;
          let flash: string;
          if (!ids.length) flash = f.selectFirst;
          else if (action !== "approve" && action !== "reject" && action !== "reprocess") flash = f.unknownAction;
          else {
            let reason: string | null = null;
            try {
              reason = validateReason(body?.reason);
            } catch (err) {
              if (!(err instanceof InputError)) throw err;
            }
            const n = await bulkAction(deps.moderation, ids, action, reason, c.operator.name);
            flash = (action === "approve" ? f.bulkApproved : action === "reject" ? f.bulkRejected : f.bulkRequeued)(n, ids.length);
          }
          const q = { state: body?.state, q: body?.q };
          if (!isHtmx(request)) return seeOther(`/admin?${new URLSearchParams({ state: asTab(q.state) })}`);
          return queue(q, c, flash);
        },
        { body: BulkForm, detail: { hide: true } },
      )
      .get(
        "/admin/overview",
        async (c) => {
          const [o, depth] = await Promise.all([deps.ads.overview(), deps.queueDepths()]);
          return page(c, t(c.lang).admin.overview.heading, "overview", <OverviewView o={o} queueDepth={depth} lang={c.lang} />);
        },
        { detail: { hide: true } },
      )
      .get("/admin/outbox", async ({ query, ...c }) => page(c, t(c.lang).admin.outbox.heading, "outbox", await outbox(query, c)), { detail: { hide: true } })
      .post(
        // Queues a failed e-mail again (from the ad's page, `from=ad&ad=<id>`, or the outbox, `from=outbox`).
        "/admin/emails/:id/resend",
        async ({ params, body, request, set, ...c }) => {
          const m = t(c.lang).admin;
          if (!/^\d{1,18}$/.test(params.id)) return text(m.flash.notFound, 404);
          const adId = body?.ad;
          const fromAd = body?.from === "ad" && adId !== undefined && isAdId(adId);
          const filter = outboxStatus(body?.status);
          const back = fromAd ? `/admin/ads/${adId}` : `/admin/outbox${filter ? `?status=${filter}` : ""}`;
          const done = await resendEmail(deps.moderation, params.id, c.operator.name);
          if (done && !isHtmx(request)) return seeOther(back);
          const note = done ? { flash: m.flash.emailRequeued } : { error: m.flash.emailNotResendable };
          const view = fromAd ? await detail(adId, c, note) : await outbox({ status: filter }, c, note);
          if (!view) return text(m.flash.notFound, 404);
          set.status = done ? 200 : 409;
          if (isHtmx(request)) return view;
          return page(c, fromAd ? m.detail.heading : m.outbox.heading, fromAd ? "queue" : "outbox", view);
        },
        { body: ResendForm, detail: { hide: true } },
      )
      .post(
        "/admin/logout",
        async ({ cookie, request, operator }) => {
          await deps.auth.logout(sessionToken(cookie));
          deps.log.info("admin signed out", { operator: operator.name });
          setSessionCookie(deps, cookie, request, "", 0);
          return seeOther("/admin/login?signedout=1");
        },
        { body: LogoutForm, detail: { hide: true } },
      )
      // ---- the signed-in operator's own account: their language and display name ----
      .get(
        "/admin/account",
        ({ query, ...c }) => {
          const m = t(c.lang).admin.account;
          return page(c, m.heading, "account", <AccountView me={c.operator} csrf={c.session.csrf} lang={c.lang} flash={query.saved ? m.saved : undefined} />);
        },
        { detail: { hide: true } },
      )
      .post(
        "/admin/account",
        async ({ body, set, ...c }) => {
          try {
            const lang = parseOperatorLang(body?.lang);
            await deps.operators.repo.setPreferences(c.operator.id, { lang, displayName: validateDisplayName(body?.display_name) });
            return seeOther("/admin/account?saved=1");
          } catch (err) {
            if (!(err instanceof OperatorError)) throw err;
            set.status = 422;
            return page(c, t(c.lang).admin.account.heading, "account", <AccountView me={c.operator} csrf={c.session.csrf} lang={c.lang} error={operatorMessage(c.lang, err)} />);
          }
        },
        { body: OperatorForm, detail: { hide: true } },
      )
      // ---- the operators page: the guard above lets only an admin through (ADMIN_ONLY) ----
      .get("/admin/operators", async (c) => page(c, t(c.lang).admin.operators.heading, "operators", await operators(c)), { detail: { hide: true } })
      .post(
        // Adds an operator; the answer shows their generated password once (so it is no redirect).
        "/admin/operators",
        async ({ body, request, set, ...c }) => {
          const m = t(c.lang).admin.operators;
          try {
            const added = await deps.operators.add({ name: body?.name, role: body?.role, lang: body?.lang, displayName: body?.display_name }, c.operator.name);
            return operatorsAnswer(c, request, { flash: m.added(added.operator.name), shown: { name: added.operator.name, password: added.password } });
          } catch (err) {
            if (!(err instanceof OperatorError)) throw err;
            set.status = operatorStatus(err);
            return operatorsAnswer(c, request, { error: operatorMessage(c.lang, err) });
          }
        },
        { body: OperatorForm, detail: { hide: true } },
      )
      .post(
        // disable | enable | reset-password (shows the new password once) | role (`role` field).
        "/admin/operators/:id/:action",
        async ({ params, body, request, set, ...c }) => {
          const m = t(c.lang).admin.operators;
          const by = c.operator.name;
          const action = params.action;
          if (!["disable", "enable", "reset-password", "role"].includes(action)) return text(t(c.lang).admin.flash.unknownAction, 404);
          let note: { flash?: string; error?: string; shown?: ShownPassword };
          try {
            const target = await deps.operators.get(params.id);
            if (target.id === c.operator.id) throw new OperatorError("self", "an operator cannot change their own account here");
            const name = target.name;
            if (action === "reset-password") {
              note = { flash: m.passwordReset(name), shown: { name, password: await deps.operators.resetPassword(target, by) } };
            } else if (action === "role") {
              const changed = await deps.operators.setRole(target, body?.role, by);
              note = { flash: changed ? m.roleChanged(name, m.roles[body?.role as "admin" | "operator"]) : m.unchanged };
            } else {
              const disable = action === "disable";
              note = { flash: (await deps.operators.setDisabled(target, disable, by)) ? (disable ? m.disabled : m.enabled)(name) : m.unchanged };
            }
          } catch (err) {
            if (!(err instanceof OperatorError)) throw err;
            set.status = operatorStatus(err);
            note = { error: operatorMessage(c.lang, err) };
          }
          // A plain form's POST goes back to the list, unless there is a password to show or an error to say.
          if (!isHtmx(request) && !note.shown && !note.error) return seeOther("/admin/operators");
          return operatorsAnswer(c, request, note);
        },
        { body: OperatorForm, detail: { hide: true } },
      )
  );
}
