/**
 * The language of one request, for its page, its API `message`s and (at submission) the poster's
 * e-mails: `?lang=`, then the `lang` cookie a language switch sets, then Accept-Language, then
 * DEFAULT_LANGUAGE (see src/i18n).
 */
import { LANG_COOKIE, negotiateLanguage, parseLang, type Lang } from "../i18n";

/** The value of one cookie in a Cookie header, if present. */
function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** The language a request asks for, else `fallback` (DEFAULT_LANGUAGE). */
export function requestLang(request: Request, fallback: Lang): Lang {
  const q = request.url.includes("lang=") ? new URL(request.url).searchParams.get("lang") : null;
  return negotiateLanguage({
    query: q,
    cookie: cookieValue(request.headers.get("cookie"), LANG_COOKIE),
    acceptLanguage: request.headers.get("accept-language"),
    fallback,
  });
}

/** How long the `lang` cookie remembers a choice: a year, in seconds. */
export const LANG_COOKIE_MAX_AGE = 365 * 24 * 60 * 60;

/**
 * The Set-Cookie value that remembers a choice of language. Path=/ so every page and API answer
 * sees it; SameSite=Lax (sent when following a link here, not on cross-site posts); HttpOnly
 * because no script needs it (the pages have none of their own). Not Secure: it is a preference,
 * not a credential, and the service may be reached over plain HTTP behind its proxy.
 */
export function langCookie(lang: Lang): string {
  return `${LANG_COOKIE}=${lang}; Path=/; Max-Age=${LANG_COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly`;
}

/**
 * The cookie to set for a GET (or HEAD) that chooses a language explicitly (`?lang=fa`, which is
 * what the language switch links to), unless the cookie already says so; null otherwise.
 */
export function langChoiceCookie(request: Request): string | null {
  if ((request.method !== "GET" && request.method !== "HEAD") || !request.url.includes("lang=")) return null;
  const chosen = parseLang(new URL(request.url).searchParams.get("lang"));
  if (!chosen || parseLang(cookieValue(request.headers.get("cookie"), LANG_COOKIE)) === chosen) return null;
  return langCookie(chosen);
}

/**
 * Where a language switch on this request's page leads back to: the same path and query (without
 * `lang`) for a GET; the home page for anything else (a POST's result cannot be fetched again).
 */
export function pageHere(request: Request): string {
  if (request.method !== "GET" && request.method !== "HEAD") return "/";
  const url = new URL(request.url);
  url.searchParams.delete("lang");
  return url.pathname + url.search;
}
