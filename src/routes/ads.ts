import { withHeaders } from "@elysiajs/openapi";
import { EN, ErrorModel, ETAG, EXAMPLE_ID, IMAGE_TYPES, Internal, jsonResponse, MESSAGE, NO_CACHE, PUBLIC, RetryAfter, Unavailable } from "./api-models";
import { t as catalogue, type Lang } from "../i18n";
import { pageHere, requestLang } from "./lang";
import { Elysia, t } from "elysia";
import type { AdRepository } from "../database/ad-repository";
import { acceptedAdImage, findAd, submitAd, toPublicAd, type IntakeDeps } from "../domain/intake";
import type { RateLimiter } from "../platform/rate-limit";
import type { ImageStorage } from "../storage/storage";
import { DESCRIPTION_MAX } from "../domain/validation";
import { clientAddress } from "./client-address";
import { AdPage, AdStatus } from "../views/public/ad";
import { AdGone, NotFoundPage, SubmitResultPage, SubmitSuccess } from "../views/public/messages";
import { answer } from "./answer";
import { errorBody, errorResponse } from "./errors";
import { browserVersion } from "./public";

const PublicAdModel = t.Object(
  {
    id: t.String({ format: "uuid" }),
    state: t.Union([t.Literal("pending"), t.Literal("accepted"), t.Literal("rejected")], {
      description: "`pending` until a decision (also while an operator looks at it), then `accepted` or `rejected`",
    }),
    message: t.String({ description: MESSAGE, examples: [EN.status.pending, EN.status.accepted, EN.status.rejected] }),
    created_at: t.String({ format: "date-time" }),
    description: t.Optional(t.String({ description: "Accepted ads only" })),
    category: t.Optional(t.String({ description: "Accepted ads only: the tagger's tag, in English whatever the language (pages show it translated)", examples: ["car"] })),
    image_url: t.Optional(t.String({ description: "Accepted ads only: the path of the photo", examples: [`/ads/${EXAMPLE_ID}/image`] })),
    decided_at: t.Optional(t.String({ format: "date-time", description: "Accepted ads only" })),
  },
  { title: "Ad", description: "The ad's public view. The poster's e-mail is never shown." },
);

const AD_ID = t.String({ description: "The ad's id, as `POST /ads` returned it (a UUID; anything else is a 404)" });

export interface AdRoutesDeps extends IntakeDeps {
  repo: AdRepository;
  storage: ImageStorage;
  /** Per-client limit on submissions; null when off. */
  rateLimiter: RateLimiter | null;
  /** Take the client address from X-Forwarded-For's last hop. */
  trustProxy: boolean;
  /** DEFAULT_LANGUAGE: when neither the person nor their browser chooses one. */
  defaultLanguage: Lang;
  /** The poster's private manage page (shown once on the page after posting; the e-mails carry it too). */
  manageUrl?: (adId: string) => string;
}

/** The public ad API: submit, status, image. */
export function adRoutes(deps: AdRoutesDeps) {
  return new Elysia({ name: "ads", tags: ["Ads"] } as never)
    // POST /ads's rate limit runs when the request arrives, before routing and body parsing
    // (a route's beforeHandle runs only after the whole multipart body is read, parsed and
    // validated): a client over its budget is refused without the server reading its upload.
    .onRequest(({ request, server, set }) => {
      if (!deps.rateLimiter || request.method !== "POST") return;
      const path = new URL(request.url).pathname;
      if (path !== "/ads" && path !== "/ads/") return;
      const wait = deps.rateLimiter.take(clientAddress(request, server, deps.trustProxy));
      if (wait <= 0) return;
      deps.metrics.refused.inc({ code: "rate_limited" });
      const lang = requestLang(request, deps.defaultLanguage);
      const body = errorBody("rate_limited", catalogue(lang).errors.rateLimited);
      const res = browserVersion(request, 429, body, {}, lang) ?? Response.json(body, { status: 429 });
      for (const [k, v] of Object.entries(set.headers)) if (typeof v === "string" && !res.headers.has(k)) res.headers.set(k, v);
      res.headers.set("retry-after", String(wait));
      res.headers.set("connection", "close"); // the unread upload is not drained: end the connection
      return res;
    })
    .post(
      "/ads",
      async ({ body, request, set }) => {
        const image = body.image instanceof Blob ? new Uint8Array(await body.image.arrayBuffer()) : null;
        const log = deps.log.child({ request_id: set.headers["x-request-id"] });
        // The poster's language: this answer's, and the e-mails' about this ad.
        const lang = requestLang(request, deps.defaultLanguage);
        const row = await submitAd({ ...deps, log }, { description: body.description, email: body.email, image, lang });
        set.status = 201;
        set.headers.location = `/ads/${row.id}`;
        const registered = { id: row.id, state: "pending" as const, message: catalogue(lang).status.registered(row.id) };
        return answer({ request, set }, {
          json: () => registered,
          page: () => SubmitResultPage({ lang, ok: true, id: row.id, manageUrl: deps.manageUrl?.(row.id) }),
          fragment: () => SubmitSuccess({ lang, id: row.id, manageUrl: deps.manageUrl?.(row.id) }),
        });
      },
      {
        parse: "formdata",
        body: t.Object({
          description: t.String({ description: `What is for sale; 1-${DESCRIPTION_MAX} characters after trimming` }),
          email: t.String({ description: "Where the outcome is e-mailed; never shown publicly" }),
          image: t.File({ description: "JPEG, PNG, WebP or GIF (checked by content), at most MAX_IMAGE_BYTES" }),
        }),
        response: {
          201: withHeaders(
            t.Object(
              {
                id: t.String({ format: "uuid" }),
                state: t.Literal("pending"),
                message: t.String({ description: MESSAGE, examples: [EN.status.registered(EXAMPLE_ID)] }),
              },
              { title: "Registered", description: "The ad is stored and queued for review; poll `Location` for its status" },
            ),
            { Location: t.String({ pattern: "^/ads/[0-9a-f-]{36}$", description: "The ad's status: `/ads/{id}`" }) },
          ),
          400: ErrorModel("The body is not multipart/form-data that can be parsed (`bad_request`)", ["bad_request"]),
          413: ErrorModel("The image is over MAX_IMAGE_BYTES or its pixel budget (`image_too_large`, `too_large`)", ["image_too_large", "too_large"]),
          415: ErrorModel("The image is not a JPEG, PNG, WebP or GIF by its content (`unsupported_image`)", ["unsupported_image"]),
          422: ErrorModel("A field is missing or invalid (`invalid_description`, `invalid_email`, `invalid_image`)", ["invalid_description", "invalid_email", "invalid_image"]),
          429: withHeaders(ErrorModel("Too many submissions from this client (`rate_limited`); the upload was not read", ["rate_limited"]), { "Retry-After": RetryAfter }),
          500: Internal,
          503: Unavailable(["storage_unavailable", "database_unavailable", "broker_unavailable"]),
        },
        detail: {
          ...PUBLIC,
          summary: "Submit an ad",
          description:
            "Stores the ad and its photo and queues it for automatic review. The poster is e-mailed the outcome. A refused submission leaves nothing behind. (Browsers, by `Accept: text/html` or `HX-Request`, get the same answers as HTML.)",
        },
      },
    )
    .get(
      "/ads/:id",
      async ({ params, request, set, status }) => {
        const row = await findAd(deps.repo, params.id);
        const lang = requestLang(request, deps.defaultLanguage);
        if (!row) {
          set.status = 404;
          return answer({ request, set }, {
            json: () => status(404, errorBody("not_found", catalogue(lang).errors.adNotFound)),
            page: () => NotFoundPage({ lang, here: pageHere(request) }),
            fragment: () => AdGone({ lang }),
          });
        }
        const ad = toPublicAd(row, lang);
        return answer({ request, set }, { json: () => ad, page: () => AdPage({ lang, ad, here: pageHere(request) }), fragment: () => AdStatus({ lang, ad }) });
      },
      {
        params: t.Object({ id: AD_ID }),
        response: {
          200: PublicAdModel,
          404: ErrorModel("No ad with this id (`not_found`)", ["not_found"]),
          500: Internal,
          503: Unavailable(["database_unavailable"]),
        },
        detail: {
          ...PUBLIC,
          summary: "An ad's status",
          description:
            "Pending and rejected ads show only their state; accepted ads show the ad. (Browsers, by `Accept: text/html`, get the ad's web page instead.)",
        },
      },
    )
    .get(
      "/ads/:id/image",
      async ({ params, request }) => {
        // Every request revalidates (no-cache): a rejected or withdrawn ad's photo is a 404 at
        // once; an unchanged photo costs a 304 without the bytes.
        const img = await acceptedAdImage(deps.repo, deps.storage, params.id, request.headers.get("if-none-match"));
        if (!img) return errorResponse(404, "not_found", catalogue(requestLang(request, deps.defaultLanguage)).errors.acceptedAdNotFound, { "cache-control": "no-store" });
        const headers = { etag: img.etag, "cache-control": "no-cache" };
        if (img.notModified) return new Response(null, { status: 304, headers });
        return new Response(img.body, { headers: { ...headers, "content-type": img.contentType, "content-length": String(img.size) } });
      },
      {
        params: t.Object({ id: AD_ID }),
        headers: t.Object({
          "if-none-match": t.Optional(t.String({ description: "Entity tags from an earlier answer's `ETag` (or `*`): a match is a 304 without the bytes" })),
        }),
        // Answers are Responses (bytes, 304, error), so they are documented here, not validated.
        detail: {
          ...PUBLIC,
          summary: "An accepted ad's photo",
          description:
            "The image bytes, streamed, with an ETag and `Cache-Control: no-cache`; 304 to a matching If-None-Match; 404 unless the ad is accepted (checked on every request, so a photo stops being served the moment its ad is rejected).",
          responses: {
            200: {
              description: "The photo, as stored (its type was sniffed from its content at intake)",
              headers: { ETag: ETAG, "Cache-Control": NO_CACHE },
              content: Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: t.String({ format: "binary" }) }])),
            },
            304: { description: "The client's copy (If-None-Match) is current; no body", headers: { ETag: ETAG, "Cache-Control": NO_CACHE } },
            404: jsonResponse(ErrorModel("No accepted ad with this id (`not_found`): unknown, pending, rejected or malformed", ["not_found"]), {
              "Cache-Control": { required: true, schema: t.Literal("no-store") },
            }),
            500: jsonResponse(Internal),
            503: jsonResponse(ErrorModel("The database or storage is down, or the photo is missing from storage (`database_unavailable`, `storage_unavailable`)", ["database_unavailable", "storage_unavailable"]), {
              "Retry-After": { required: true, schema: RetryAfter },
            }),
          },
        },
      },
    );
}

