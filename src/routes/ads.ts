import { Elysia, t } from "elysia";
import type { AdRepository } from "../services/ad-repository";
import { acceptedAdImage, findAd, MESSAGES, submitAd, toPublicAd, type IntakeDeps } from "../services/ads";
import type { RateLimiter } from "../services/rate-limit";
import type { ImageStorage } from "../services/storage";
import { DESCRIPTION_MAX } from "../services/validation";
import { clientAddress } from "./client-address";
import { errorBody, errorResponse } from "./errors";
import { browserVersion } from "./public";

const ErrorModel = t.Object({ error: t.Object({ code: t.String(), message: t.String() }) });

const PublicAdModel = t.Object({
  id: t.String({ format: "uuid" }),
  state: t.Union([t.Literal("pending"), t.Literal("accepted"), t.Literal("rejected")]),
  message: t.String({ examples: [MESSAGES.pending] }),
  created_at: t.String({ format: "date-time" }),
  description: t.Optional(t.String()),
  category: t.Optional(t.String({ examples: ["car"] })),
  image_url: t.Optional(t.String()),
  decided_at: t.Optional(t.String({ format: "date-time" })),
});

export interface AdRoutesDeps extends IntakeDeps {
  repo: AdRepository;
  storage: ImageStorage;
  /** Per-client limit on submissions; null when off. */
  rateLimiter: RateLimiter | null;
  /** Take the client address from X-Forwarded-For's last hop. */
  trustProxy: boolean;
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
      const body = errorBody("rate_limited", "Too many submissions; try again later");
      const res = browserVersion(request, 429, body) ?? Response.json(body, { status: 429 });
      for (const [k, v] of Object.entries(set.headers)) if (typeof v === "string" && !res.headers.has(k)) res.headers.set(k, v);
      res.headers.set("retry-after", String(wait));
      res.headers.set("connection", "close"); // the unread upload is not drained: end the connection
      return res;
    })
    .post(
      "/ads",
      async ({ body, set }) => {
        const image = body.image instanceof Blob ? new Uint8Array(await body.image.arrayBuffer()) : null;
        const log = deps.log.child({ request_id: set.headers["x-request-id"] });
        const row = await submitAd({ ...deps, log }, { description: body.description, email: body.email, image });
        set.status = 201;
        set.headers.location = `/ads/${row.id}`;
        return { id: row.id, state: "pending" as const, message: MESSAGES.registered(row.id) };
      },
      {
        parse: "formdata",
        body: t.Object({
          description: t.String({ description: `What is for sale; 1-${DESCRIPTION_MAX} characters after trimming` }),
          email: t.String({ description: "Where the outcome is e-mailed; never shown publicly" }),
          image: t.File({ description: "JPEG, PNG, WebP or GIF (checked by content), at most MAX_IMAGE_BYTES" }),
        }),
        response: {
          201: t.Object({ id: t.String({ format: "uuid" }), state: t.Literal("pending"), message: t.String() }),
          400: ErrorModel,
          413: ErrorModel,
          415: ErrorModel,
          422: ErrorModel,
          429: ErrorModel,
          503: ErrorModel,
        },
        detail: {
          summary: "Submit an ad",
          description: "Stores the ad and its photo and queues it for automatic review. The poster is e-mailed the outcome.",
        },
      },
    )
    .get(
      "/ads/:id",
      async ({ params, status }) => {
        const row = await findAd(deps.repo, params.id);
        if (!row) return status(404, errorBody("not_found", "No ad with this id"));
        return toPublicAd(row);
      },
      {
        params: t.Object({ id: t.String() }),
        response: { 200: PublicAdModel, 404: ErrorModel, 503: ErrorModel },
        detail: { summary: "An ad's status", description: "Pending and rejected ads show only their state; accepted ads show the ad." },
      },
    )
    .get(
      "/ads/:id/image",
      async ({ params, request }) => {
        // Every request revalidates (no-cache): a rejected or withdrawn ad's photo is a 404 at
        // once; an unchanged photo costs a 304 without the bytes.
        const img = await acceptedAdImage(deps.repo, deps.storage, params.id, request.headers.get("if-none-match"));
        if (!img) return errorResponse(404, "not_found", "No accepted ad with this id", { "cache-control": "no-store" });
        const headers = { etag: img.etag, "cache-control": "no-cache" };
        if (img.notModified) return new Response(null, { status: 304, headers });
        return new Response(img.body, { headers: { ...headers, "content-type": img.contentType, "content-length": String(img.size) } });
      },
      {
        params: t.Object({ id: t.String() }),
        detail: {
          summary: "An accepted ad's photo",
          description:
            "The image bytes, streamed, with an ETag and `Cache-Control: no-cache`; 304 to a matching If-None-Match; 404 unless the ad is accepted (checked on every request).",
        },
      },
    );
}

