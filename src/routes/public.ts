/**
 * The public web pages (server-rendered JSX + htmx): the home page and the ad-id lookup, and the
 * HTML versions of the answers the ad routes give before their handler runs or instead of it
 * (refusals, errors, unknown URLs). The ad routes choose their own successful answers with
 * `answer` (./answer.ts); nothing here reads another response back. Every page is in the
 * request's language (`requestLang`: ?lang=, the cookie, Accept-Language, DEFAULT_LANGUAGE).
 */
import { Elysia } from "elysia";
import { DESCRIPTION_MAX, EMAIL_MAX, isAdId } from "../domain/validation";
import { LANGS, type Lang } from "../i18n";
import { HomePage } from "../views/public/home";
import { AdGone, ErrorPage, NotFoundPage, SubmitError, SubmitResultPage } from "../views/public/messages";
import { htmlAnswer, htmlPlugin, representationOf, VARY } from "./answer";
import { pageHere, requestLang } from "./lang";

export interface PublicRoutesDeps {
  maxImageBytes: number;
  /** DEFAULT_LANGUAGE: when neither the person nor their browser chooses one. */
  defaultLanguage: Lang;
}

/** The API's error body, as `errorBody` (./errors.ts) makes it. */
interface ErrorBody {
  error: { code: string; message: string };
}

const SUBMIT_PATH = /^\/ads\/?$/;
const AD_PATH = /^\/ads\/[^/]+\/?$/;

/**
 * The browser's version of an error answer of POST /ads or GET /ads/:id, or of a 404 for any GET
 * (an unknown URL): the message next to the form, the ad's "not found" page or fragment, or an
 * error page, in `lang` (the request's; the body's message should be in it too). For answers
 * given outside a route's handler: a refusal before routing (an oversize upload, the rate limit)
 * or an error Elysia or a handler threw. Null when JSON is the answer.
 */
export function browserVersion(request: Request, status: number, body: ErrorBody, headers: HeadersInit = {}, lang: Lang = requestLang(request, "en")): Response | null {
  const wanted = representationOf(request);
  if (wanted === "json") return null;
  const fragment = wanted === "fragment";
  const { pathname } = new URL(request.url);
  const message = body.error.message;
  const here = pageHere(request);
  if (request.method === "POST" && SUBMIT_PATH.test(pathname)) {
    return htmlAnswer(fragment ? SubmitError({ lang, message }) : SubmitResultPage({ lang, ok: false, message }), status, headers);
  }
  if (request.method === "GET" && AD_PATH.test(pathname)) {
    if (status === 404) return htmlAnswer(fragment ? AdGone({ lang }) : NotFoundPage({ lang, here }), 404, headers);
    return htmlAnswer(fragment ? SubmitError({ lang, message }) : ErrorPage({ lang, here, message }), status, headers);
  }
  if (request.method === "GET" && status === 404) return htmlAnswer(NotFoundPage({ lang, here }), 404, headers);
  return null;
}

/** The home page and the ad-id lookup. */
export function publicRoutes(deps: PublicRoutesDeps) {
  // The home page does not change between requests: rendered once per language.
  const props = { maxImageBytes: deps.maxImageBytes, descriptionMax: DESCRIPTION_MAX, emailMax: EMAIL_MAX };
  const home = Object.fromEntries(LANGS.map((lang) => [lang, HomePage({ lang, ...props })])) as Record<Lang, string>;
  return new Elysia({ name: "public" })
    .use(htmlPlugin)
    .get(
      "/",
      ({ request, set }) => {
        set.headers["cache-control"] = "no-cache";
        set.headers.vary = VARY;
        return home[requestLang(request, deps.defaultLanguage)];
      },
      { detail: { hide: true } },
    )
    .get(
      "/lookup",
      ({ request, set }) => {
        // A GET form cannot put the id in the path: send the browser to the ad's own URL.
        const id = new URL(request.url).searchParams.get("id")?.trim() ?? "";
        if (!id) return new Response(null, { status: 303, headers: { location: "/#lookup" } });
        if (!isAdId(id)) {
          set.status = 404;
          set.headers["cache-control"] = "no-cache";
          set.headers.vary = VARY;
          return NotFoundPage({ lang: requestLang(request, deps.defaultLanguage), here: pageHere(request) });
        }
        return new Response(null, { status: 303, headers: { location: `/ads/${id}` } });
      },
      { detail: { hide: true } },
    );
}
