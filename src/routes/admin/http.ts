/**
 * The dashboard's request plumbing, shared by its routes: the session cookie, the guards' pieces
 * (cross-site check, CSRF field, early refusal), form bodies, and response helpers.
 */
import { status, t, type Cookie } from "elysia";
import { requestIsHttps } from "../client-address";

export const SESSION_COOKIE = "ad_admin";

export type CookieJar = Record<string, Cookie<unknown>>;

/** The session token the request's cookie carries, if any. */
export function sessionToken(cookie: CookieJar): string | undefined {
  const token = cookie[SESSION_COOKIE]?.value;
  return typeof token === "string" ? token : undefined;
}

/** Sets (or, with maxAgeS 0, clears) the session cookie: HttpOnly, SameSite=Strict, Path=/admin, Secure over https. */
export function setSessionCookie(opts: { secureCookies: boolean; trustProxy?: boolean }, cookie: CookieJar, request: Request, token: string, maxAgeS: number): void {
  cookie[SESSION_COOKIE]!.set({
    value: token,
    path: "/admin",
    httpOnly: true,
    sameSite: "strict",
    maxAge: maxAgeS,
    secure: opts.secureCookies || requestIsHttps(request, opts.trustProxy ?? false),
  });
}

export const isHtmx = (request: Request) => request.headers.get("hx-request") === "true";
export const changesState = (request: Request) => request.method !== "GET" && request.method !== "HEAD";

/** A cross-site request, by the browser's own account (absent on old browsers: allowed, the token still guards). */
export function crossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

/** The `_csrf` field of a parsed (not yet validated) form body. */
export function csrfField(body: unknown): string | null {
  const v = body && typeof body === "object" ? (body as Record<string, unknown>)._csrf : undefined;
  return typeof v === "string" ? v : null;
}

/**
 * Ends the request from a guard. Guards are `derive`s: Elysia runs them after parsing the body and
 * before validating it, and answers a derive's `status()` at once, so a refusal (no session,
 * cross-site, no CSRF token) always wins over a malformed body's 422.
 */
export const stop = (res: Response) => status(res.status as 303 | 401 | 403, res);
export const crossSiteRefused = () => new Response("Cross-site request refused", { status: 403 });

/**
 * Elysia's multipart parser answers 400 for a body it cannot read, before any guard could refuse
 * the request: such a body is taken as null instead, so the guards still decide first (and a
 * request they let through gets the 422 of a malformed body).
 */
export const unreadableAsNull = async ({ request, contentType }: { request: Request; contentType: string }) => {
  if (contentType === "multipart/form-data" && !(await request.clone().formData().then(() => true, () => false))) return null;
};

/** Nothing under /admin is cached by the browser or a proxy (the assets and photos set their own). */
export const noStore = ({ set }: { set: { headers: Record<string, unknown> } }) => {
  set.headers["cache-control"] = "no-store";
};

// The forms' bodies, urlencoded (plain forms, htmx) or multipart. Fields are only typed here; their
// content is checked where it is used (validateCategory, validateReason, isAdId...), so a bad value
// gets the dashboard's own message. Plain forms carry the CSRF token in `_csrf`; htmx sends it as
// the X-CSRF-Token header. Bodies are optional: a body-less POST with the header works as before.
const field = t.Optional(t.String());
export const LoginForm = t.Optional(t.Object({ name: field, password: field }));
export const ActionForm = t.Optional(t.Object({ _csrf: field, category: field, reason: field }));
export const BulkForm = t.Optional(t.Object({ _csrf: field, ids: t.Optional(t.Union([t.String(), t.Array(t.String())])), action: field, reason: field, state: field, q: field }));
export const ResendForm = t.Optional(t.Object({ _csrf: field, from: field, ad: field, status: field }));
export const LogoutForm = t.Optional(t.Object({ _csrf: field }));
export const OperatorForm = t.Optional(t.Object({ _csrf: field, name: field, display_name: field, role: field, lang: field }));

/** A redirect after a plain form's POST (htmx requests get the fragment instead). */
export const seeOther = (location: string) => new Response(null, { status: 303, headers: { location } });
