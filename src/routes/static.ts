import { Elysia, t } from "elysia";
import { t as catalogue, type Lang } from "../i18n";
import { FONT_ASSETS, STATIC_ASSETS } from "../views/assets/manifest";
import { errorResponse } from "./errors";
import { requestLang } from "./lang";

// Pages link assets as /assets/<name>?v=<content hash>, so a year-long immutable cache is safe.
// The font's URL is fixed, but the file only changes with the pinned package version.
const CACHE_CONTROL = "public, max-age=31536000, immutable";
// The licence text is read by people, rarely: a day.
const LICENCE_CACHE_CONTROL = "public, max-age=86400";

/**
 * The web pages' static files (CSS, htmx, icon) at /assets/<name>, and the Persian web font and
 * its licence at /assets/fonts/<name>, all embedded in the binary.
 */
export function staticRoutes(defaultLanguage: Lang = "en") {
  const notFound = (request: Request) => errorResponse(404, "not_found", catalogue(requestLang(request, defaultLanguage)).errors.notFound);
  return new Elysia({ name: "static" })
    .get(
      "/assets/:name",
      ({ params, request }) => {
        const asset = STATIC_ASSETS.get(params.name);
        if (!asset) return notFound(request);
        return new Response(Bun.file(asset.file), { headers: { "content-type": asset.contentType, "cache-control": CACHE_CONTROL } });
      },
      { params: t.Object({ name: t.String() }), detail: { hide: true } },
    )
    .get(
      "/assets/fonts/:name",
      ({ params, request }) => {
        const asset = FONT_ASSETS.get(params.name);
        if (!asset) return notFound(request);
        const cacheControl = asset.contentType.startsWith("font/") ? CACHE_CONTROL : LICENCE_CACHE_CONTROL;
        return new Response(Bun.file(asset.file), { headers: { "content-type": asset.contentType, "cache-control": cacheControl } });
      },
      { params: t.Object({ name: t.String() }), detail: { hide: true } },
    );
}
