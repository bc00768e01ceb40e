/**
 * The public web pages (server-rendered JSX + htmx). The API routes stay the single source of
 * truth: for browsers, a `mapResponse` hook re-presents the answers of `POST /ads` and
 * `GET /ads/:id` as HTML (a fragment for htmx, a whole page otherwise), while JSON clients get
 * exactly the JSON they always did. Must be `.use`d before `adRoutes`: the hook is global, and
 * Elysia applies hooks only to routes registered after them.
 */
import { Elysia, ElysiaStatus } from "elysia";
import type { PublicAd } from "../services/ads";
import { DESCRIPTION_MAX, EMAIL_MAX, isAdId } from "../services/validation";
import { AdPage, AdStatus } from "../views/public/ad";
import { HomePage } from "../views/public/home";
import { AdGone, ErrorPage, NotFoundPage, SubmitError, SubmitResultPage, SubmitSuccess } from "../views/public/messages";

export interface PublicRoutesDeps {
  maxImageBytes: number;
}

// Both representations of GET /ads/:id live at one URL: caches must key on what was asked for.
const VARY = "Accept, HX-Request";

/** Quality the Accept header gives `type` (most specific matching range wins; absent → 0). */
function quality(accept: string, type: string): number {
  const [major] = type.split("/");
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === "*/*" ? 0 : -1;
    if (specificity <= best) continue;
    best = specificity;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const v = qp ? Number(qp.slice(2)) : 1;
    q = Number.isFinite(v) ? v : 0;
  }
  return q;
}

/** True when the Accept header ranks text/html above application/json (a tie keeps JSON). */
export function prefersHtml(accept: string | null): boolean {
  if (!accept) return false;
  return quality(accept, "text/html") > quality(accept, "application/json");
}

/** An htmx request that wants a fragment (not a history restore or a whole-body swap). */
function wantsFragment(request: Request): boolean {
  const h = request.headers;
  return h.get("hx-request") === "true" && h.get("hx-history-restore-request") !== "true" && h.get("hx-request-type") !== "full";
}

function html(body: string, status: number, headers: HeadersInit = {}): Response {
  const res = new Response(body, { status, headers });
  res.headers.set("content-type", "text/html; charset=utf-8");
  res.headers.set("cache-control", "no-cache");
  return res;
}

/** An HTML answer at a URL that also answers JSON. */
function negotiated(body: string, status: number, headers: Headers): Response {
  const res = html(body, status, headers);
  res.headers.set("vary", VARY);
  return res;
}

interface Outcome {
  status: number;
  body: unknown;
  /** Headers of a ready-made Response (the error handler's), kept on the HTML version. */
  headers: Headers;
}

/** What a route answered, whatever form Elysia hands it over in. */
async function outcomeOf(value: unknown, setStatus: unknown): Promise<Outcome | null> {
  if (value instanceof Response) {
    const headers = new Headers(value.headers);
    headers.delete("content-type");
    headers.delete("content-length");
    const body = (value.headers.get("content-type") ?? "").includes("json") ? await value.clone().json().catch(() => null) : null;
    return { status: value.status, body, headers };
  }
  if (value instanceof ElysiaStatus) return { status: Number(value.code), body: value.response, headers: new Headers() };
  if (value && typeof value === "object") return { status: typeof setStatus === "number" ? setStatus : 200, body: value, headers: new Headers() };
  return null;
}

function errorMessage(body: unknown): string {
  const m = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof m === "string" ? m : "Something went wrong; please try again.";
}

/** POST /ads for a browser: the confirmation with the ad's link, or the error next to the form. */
function presentSubmission(request: Request, o: Outcome): Response {
  const fragment = wantsFragment(request);
  if (o.status < 300) {
    const { id, message } = o.body as { id: string; message: string };
    const view = SubmitSuccess({ id, message });
    return negotiated(fragment ? view : SubmitResultPage({ ok: true, id, message }), o.status, o.headers);
  }
  const message = errorMessage(o.body);
  return negotiated(fragment ? SubmitError({ message }) : SubmitResultPage({ ok: false, message }), o.status, o.headers);
}

/** GET /ads/:id for a browser: the ad's page, or for htmx its status fragment. */
function presentAd(request: Request, o: Outcome): Response {
  const fragment = wantsFragment(request);
  if (o.status < 300) {
    const ad = o.body as PublicAd;
    return negotiated(fragment ? AdStatus({ ad }) : AdPage({ ad }), o.status, o.headers);
  }
  if (o.status === 404) return negotiated(fragment ? AdGone() : NotFoundPage(), 404, o.headers);
  const message = errorMessage(o.body);
  return negotiated(fragment ? SubmitError({ message }) : ErrorPage({ message }), o.status, o.headers);
}

/**
 * For answers given before any route runs (an oversize upload refused from its Content-Length,
 * an unknown URL): the same HTML a browser would get from the route, or null for API clients.
 */
export function browserVersion(request: Request, status: number, body: unknown): Response | null {
  const o: Outcome = { status, body, headers: new Headers() };
  if (request.method === "POST" && new URL(request.url).pathname === "/ads") {
    return request.headers.get("hx-request") === "true" || prefersHtml(request.headers.get("accept")) ? presentSubmission(request, o) : null;
  }
  if (status === 404 && request.method === "GET" && prefersHtml(request.headers.get("accept"))) return html(NotFoundPage(), 404);
  return null;
}

/** The home page, the ad-id lookup, and the HTML presentation of the ad routes. */
export function publicRoutes(deps: PublicRoutesDeps) {
  const home = HomePage({ maxImageBytes: deps.maxImageBytes, descriptionMax: DESCRIPTION_MAX, emailMax: EMAIL_MAX });
  return new Elysia({ name: "public" })
    .mapResponse({ as: "global" }, async ({ request, route, responseValue, set }) => {
      const isSubmit = route === "/ads" && request.method === "POST";
      const isStatus = route === "/ads/:id" && request.method === "GET";
      if (isStatus) set.headers.vary = VARY;
      const accept = request.headers.get("accept");
      const forBrowser = isSubmit ? request.headers.get("hx-request") === "true" || prefersHtml(accept) : isStatus && prefersHtml(accept);
      if (!forBrowser) return;
      const o = await outcomeOf(responseValue, set.status);
      if (!o) return;
      return isSubmit ? presentSubmission(request, o) : presentAd(request, o);
    })
    .get("/", () => html(home, 200), { detail: { hide: true } })
    .get(
      "/lookup",
      ({ request }) => {
        // A GET form cannot put the id in the path: send the browser to the ad's own URL.
        const id = new URL(request.url).searchParams.get("id")?.trim() ?? "";
        if (!id) return new Response(null, { status: 303, headers: { location: "/#lookup" } });
        if (!isAdId(id)) return html(NotFoundPage(), 404);
        return new Response(null, { status: 303, headers: { location: `/ads/${id}` } });
      },
      { detail: { hide: true } },
    );
}
