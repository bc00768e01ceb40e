import { Elysia, t } from "elysia";
import { STATIC_ASSETS } from "../views/assets/manifest";
import { errorResponse } from "./errors";

// Pages link assets as /assets/<name>?v=<content hash>, so a year-long immutable cache is safe.
const CACHE_CONTROL = "public, max-age=31536000, immutable";

/** The web pages' static files (CSS, htmx, icon), embedded in the binary, at /assets/<name>. */
export function staticRoutes() {
  return new Elysia({ name: "static" }).get(
    "/assets/:name",
    ({ params }) => {
      const asset = STATIC_ASSETS.get(params.name);
      if (!asset) return errorResponse(404, "not_found", "Not found");
      return new Response(Bun.file(asset.file), { headers: { "content-type": asset.contentType, "cache-control": CACHE_CONTROL } });
    },
    { params: t.Object({ name: t.String() }), detail: { hide: true } },
  );
}
