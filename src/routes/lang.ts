/**
 * The language of one request, for its page, its API `message`s and (at submission) the poster's
 * e-mails: `?lang=`, then the `lang` cookie a language switch sets, then Accept-Language, then
 * DEFAULT_LANGUAGE (see src/i18n).
 */
import { LANG_COOKIE, negotiateLanguage, type Lang } from "../i18n";

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
