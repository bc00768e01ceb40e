/**
 * The poster's private page, reached from the link in every e-mail and on the page after posting:
 * `GET /manage/{token}` shows the ad and its history as the poster may see it; `POST
 * /manage/{token}/withdraw` takes it down; `POST /manage/{token}/appeal` asks a person to look
 * again at a rejection, once. A wrong token is a plain 404, like an unknown page. The forms carry
 * a token derived from the link (no session needed) and are refused cross-site, as the
 * dashboard's are. Nothing here is cached, and the request log never shows the token
 * (routes/app.ts writes `/manage/…`).
 */
import { Elysia, t } from "elysia";
import type { PosterRepository } from "../database/poster-repository";
import { InputError } from "../domain/errors";
import { appealAd, posterView, withdrawAd, type PosterDeps } from "../domain/poster";
import { t as catalogue, type Lang } from "../i18n";
import { NotFoundPage } from "../views/public/messages";
import { ManagePage } from "../views/public/manage";
import { htmlAnswer, htmlPlugin } from "./answer";
import { requestLang } from "./lang";

export interface ManageDeps extends PosterDeps {
  posters: PosterRepository;
  defaultLanguage: Lang;
}

/** The manage page's path: what the request log writes instead of the token. */
export const MANAGE_PATH = /^\/manage\/[^/]+/;

const Form = t.Optional(t.Object({ _csrf: t.Optional(t.String()), note: t.Optional(t.String()), confirm: t.Optional(t.String()) }));

/** A cross-site request, by the browser's own account (as the dashboard's guard). */
function crossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

export function manageRoutes(deps: ManageDeps) {
  const base = (token: string) => `/manage/${token}`;
  const noStore = { "cache-control": "no-store" };

  /** The page, or a plain 404 for a token that is not one of ours (or an ad no longer kept). */
  const page = async (request: Request, token: string, note: { flash?: string; error?: string } = {}, status = 200) => {
    const lang = requestLang(request, deps.defaultLanguage);
    try {
      const ad = await posterView(deps, token);
      return htmlAnswer(ManagePage({ lang, ad, base: base(token), csrf: deps.keys.formToken(token), ...note }), status, noStore);
    } catch (err) {
      if (err instanceof InputError && err.problem === "unknown") return htmlAnswer(NotFoundPage({ lang }), 404, noStore);
      throw err;
    }
  };

  /** Guards a form post: a token of ours (else the plain 404), same origin, the form token of this link. */
  const refused = (request: Request, token: string, body: { _csrf?: string } | null | undefined) => {
    if (!deps.keys.adIdOf(token)) return page(request, token);
    const lang = requestLang(request, deps.defaultLanguage);
    if (crossSite(request) || !deps.keys.checkFormToken(token, body?._csrf)) return htmlAnswer(`<p>${catalogue(lang).manage.formRefused}</p>`, 403, noStore);
    return null;
  };

  const after = (token: string, done: string) => new Response(null, { status: 303, headers: { location: `${base(token)}?done=${done}`, ...noStore } });

  return new Elysia({ name: "manage" })
    .use(htmlPlugin)
    .get(
      "/manage/:token",
      async ({ params, query, request }) => {
        const c = catalogue(requestLang(request, deps.defaultLanguage)).manage.done;
        const flash = typeof query.done === "string" && query.done in c ? c[query.done as keyof typeof c] : undefined;
        return page(request, params.token, { flash });
      },
      { detail: { hide: true } },
    )
    .post(
      "/manage/:token/withdraw",
      async ({ params, body, request }) => {
        const no = refused(request, params.token, body);
        if (no) return no;
        const lang = requestLang(request, deps.defaultLanguage);
        if (body?.confirm !== "yes") return page(request, params.token, { error: catalogue(lang).manage.confirmFirst }, 422);
        return after(params.token, (await withdrawAd(deps, params.token)) ? "withdrawn" : "alreadyWithdrawn");
      },
      { body: Form, detail: { hide: true } },
    )
    .post(
      "/manage/:token/appeal",
      async ({ params, body, request }) => {
        const no = refused(request, params.token, body);
        if (no) return no;
        const lang = requestLang(request, deps.defaultLanguage);
        try {
          const r = await appealAd(deps, params.token, body?.note);
          return after(params.token, r === "appealed" ? "appealed" : r === "already_appealed" ? "alreadyAppealed" : "notRejected");
        } catch (err) {
          if (err instanceof InputError && err.problem === "invalid") return page(request, params.token, { error: catalogue(lang).manage.noteInvalid }, 422);
          if (err instanceof InputError && err.problem === "unknown") return page(request, params.token);
          throw err;
        }
      },
      { body: Form, detail: { hide: true } },
    );
}
