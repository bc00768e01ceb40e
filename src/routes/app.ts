import { openapi } from "@elysiajs/openapi";
import { FormatRegistry } from "@sinclair/typebox";
import { Elysia } from "elysia";
import type { Logger } from "../platform/logger";
import { adminRoutes, type AdminDeps } from "./admin";
import { adRoutes, type AdRoutesDeps } from "./ads";
import { docsRoutes } from "./docs";
import { errorBody, errorResponse, toErrorResponse } from "./errors";
import { healthRoutes, type Check } from "./health";
import { metricsRoutes, type MetricsDeps } from "./metrics";
import { t as catalogue } from "../i18n";
import { langChoiceCookie, requestLang } from "./lang";
import { browserVersion, publicRoutes } from "./public";
import { staticRoutes } from "./static";
import { browseRoutes } from "./browse";
import { MANAGE_PATH, manageRoutes, type ManageDeps } from "./manage";

export interface AppDeps extends AdRoutesDeps, MetricsDeps {
  log: Logger;
  checks: Record<string, Check>;
  isShuttingDown: () => boolean;
  version: string;
  /** The operators' dashboard; absent in processes that do not serve it. */
  admin?: AdminDeps;
  /** PUBLIC_BASE_URL: the API document's server. Without it the document names its own origin ("/"). */
  publicBaseUrl?: string;
  /** The posters' side: the list of accepted ads, thumbnails, and the private manage pages; absent in processes that do not serve it. */
  posters?: Omit<ManageDeps, "defaultLanguage" | "storage" | "log">;
}

// @elysiajs/openapi re-registers "uuid" (and other formats) with checks that build a schema on
// every call (~10% of a GET /ads/:id). Our own values only need these plain checks.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
FormatRegistry.Set("uuid", (v) => UUID.test(v));
FormatRegistry.Set("date-time", (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));

/**
 * Headers on every response: no sniffing, no framing, no referrer leaks, a strict CSP (fonts only
 * from here: the Persian web font is embedded, /assets/fonts/).
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy": "default-src 'none'; img-src 'self'; font-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

// Room for the text fields and multipart framing on top of the image itself.
const FORM_OVERHEAD = 64 * 1024;

/** Builds the whole HTTP application from its dependencies (no sockets: tests call `app.handle`). */
export function createApp(deps: AppDeps) {
  const maxBody = deps.maxImageBytes + FORM_OVERHEAD;
  const timing = new WeakMap<Request, { start: number; id: string }>();
  return new Elysia()
    .onRequest(({ request, set }) => {
      const id = sanitizeRequestId(request.headers.get("x-request-id")) ?? crypto.randomUUID();
      timing.set(request, { start: performance.now(), id });
      Object.assign(set.headers, SECURITY_HEADERS, { "x-request-id": id });
      // `?lang=` on a page (the language switch's links) is remembered in the `lang` cookie.
      const langCookie = langChoiceCookie(request);
      if (langCookie) set.headers["set-cookie"] = langCookie;
      // Refuse an announced oversize body before reading it. (Bun's maxRequestBodySize stops
      // bodies that lie about, or do not announce, their length.)
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > maxBody) {
        const lang = requestLang(request, deps.defaultLanguage);
        const message = catalogue(lang).errors.imageTooLarge(deps.maxImageBytes);
        const res = browserVersion(request, 413, errorBody("image_too_large", message), {}, lang) ?? errorResponse(413, "image_too_large", message);
        for (const [k, v] of Object.entries({ ...SECURITY_HEADERS, "x-request-id": id, connection: "close" })) res.headers.set(k, v);
        return res;
      }
    })
    .onError(({ code, error, request, set }) => {
      const t = timing.get(request);
      const res = toErrorResponse(code, error, deps.log.child({ request_id: t?.id }), request, deps.defaultLanguage);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.headers.set(k, v);
      if (typeof set.headers["set-cookie"] === "string") res.headers.set("set-cookie", set.headers["set-cookie"]);
      if (t) res.headers.set("x-request-id", t.id);
      return res;
    })
    .onAfterResponse(({ request, set, route }) => {
      const t = timing.get(request);
      if (!t) return;
      const status = typeof set.status === "number" ? set.status : 200;
      // The route pattern, not the path: ids must not become label values.
      deps.metrics.http.inc({ method: request.method, route: route || "unmatched", status: String(status) });
      deps.log.info("request", {
        request_id: t.id,
        method: request.method,
        // A manage link's token is a secret: never written down.
        path: new URL(request.url).pathname.replace(MANAGE_PATH, "/manage/…"),
        status,
        ms: Math.round((performance.now() - t.start) * 10) / 10,
      });
    })
    .use(
      openapi({
        path: "/swagger",
        specPath: "/swagger/json",
        provider: null,
        documentation: {
          info: {
            title: "ad-service",
            version: deps.version,
            description:
              "Vehicle ads with automatic photo moderation. Submit an ad, then poll its status; the poster is e-mailed the outcome. Errors are `{\"error\": {\"code\", \"message\"}}`. No operation here needs credentials.",
            license: { name: "MIT", identifier: "MIT" },
          },
          servers: [{ url: deps.publicBaseUrl ?? "/", description: deps.publicBaseUrl ? "This deployment (PUBLIC_BASE_URL)" : "The origin serving this document" }],
          tags: [
            { name: "Ads", description: "Submit ads and read their status" },
            { name: "Operations", description: "Liveness, readiness and metrics" },
          ],
        },
      }),
    )
    .use(docsRoutes())
    .use(healthRoutes(deps.checks, deps.isShuttingDown))
    .use(metricsRoutes(deps))
    .use(staticRoutes(deps.defaultLanguage))
    .use(publicRoutes(deps))
    .use(adRoutes(deps))
    .use(deps.posters ? browseRoutes({ ...deps, posters: deps.posters.posters }) : new Elysia())
    .use(deps.posters ? manageRoutes({ ...deps, ...deps.posters }) : new Elysia())
    .use(deps.admin ? adminRoutes(deps.admin) : new Elysia());
}

function sanitizeRequestId(v: string | null): string | null {
  return v && /^[A-Za-z0-9._-]{1,64}$/.test(v) ? v : null;
}
