/**
 * What is for sale: `GET /ads` lists accepted ads, newest first (a page for browsers, an htmx
 * fragment for the "more" link, JSON for API clients), with a category filter, a text search that
 * folds Arabic/Persian variants, and keyset pagination; `GET /ads/{id}/thumb` serves the small
 * JPEG made once per accepted ad (on its first request), revalidated by ETag. Withdrawn, rejected and pending ads never appear.
 */
import { Elysia, t } from "elysia";
import type { ListedAd, PosterRepository } from "../database/poster-repository";
import { t as catalogue, type Lang } from "../i18n";
import { normalizeForSearch } from "../i18n/text";
import type { ImageStorage } from "../storage/storage";
import type { Logger } from "../platform/logger";
import { BrowsePage, ListItems, type ListPage } from "../views/public/browse";
import { answer, representationOf } from "./answer";
import { thumbnailOf } from "../domain/thumbnails";
import { ErrorModel, Internal, jsonResponse, PUBLIC, RetryAfter, Unavailable } from "./api-models";
import { errorResponse } from "./errors";
import { pageHere, requestLang } from "./lang";

export interface BrowseDeps {
  posters: PosterRepository;
  storage: ImageStorage;
  log: Logger;
  defaultLanguage: Lang;
}

export const LIST_DEFAULT = 24;
export const LIST_MAX = 100;

/** The keyset cursor: the last item's creation time and id, opaque to clients. */
export function encodeCursor(ad: Pick<ListedAd, "created_at" | "id">): string {
  return Buffer.from(`${ad.created_at.toISOString()}_${ad.id}`).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined | null {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("_");
  const createdAt = new Date(at ?? "");
  if (!id || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}

const Item = t.Object(
  {
    id: t.String({ format: "uuid" }),
    description: t.String(),
    category: t.String({ description: "The tagger's tag, in English whatever the language (pages show it translated)", examples: ["car"] }),
    created_at: t.String({ format: "date-time" }),
    thumbnail_url: t.String({ description: "A small JPEG of the photo (made on first request; for a photo the service cannot decode, a redirect to the photo itself)" }),
    url: t.String({ description: "The ad's status and page" }),
  },
  { title: "ListedAd" },
);

const List = t.Object(
  {
    items: t.Array(Item),
    next_cursor: t.Union([t.String(), t.Null()], { description: "Pass as `cursor` for the next page; null on the last page" }),
  },
  { title: "AdList", description: "Accepted ads, newest first" },
);

export function browseRoutes(deps: BrowseDeps) {
  return new Elysia({ name: "browse", tags: ["Ads"] } as never)
    .get(
      "/ads",
      async ({ query: raw, request, set, status }) => {
        const lang = requestLang(request, deps.defaultLanguage);
        // Checked here rather than by a `query` schema: in Elysia 1.4 one GET route with a query
        // schema slows every GET of the app (measured: GET /ads/:id −25 %).
        const query = raw as Record<string, string | undefined>;
        const invalid = (code: string, message: string) => status(422, { error: { code, message } });
        const after = decodeCursor(query.cursor?.slice(0, 200));
        if (after === null) return invalid("invalid_cursor", catalogue(lang).browse.badCursor);
        const limit = query.limit === undefined ? LIST_DEFAULT : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) return invalid("invalid_request", catalogue(lang).browse.badLimit(LIST_MAX));
        const category = query.category?.trim().slice(0, 60) || undefined;
        const q = query.q?.trim() ? normalizeForSearch(query.q.trim()).slice(0, 100) : undefined;
        const rows = await deps.posters.listAccepted({ category, text: q, after, limit: limit + 1 });
        const items = rows.slice(0, limit);
        const page: ListPage = {
          items: items.map((r) => ({
            id: r.id,
            description: r.description,
            category: r.category,
            created_at: r.created_at.toISOString(),
            thumbnail_url: `/ads/${r.id}/thumb`,
            url: `/ads/${r.id}`,
          })),
          next_cursor: rows.length > limit ? encodeCursor(items.at(-1)!) : null,
        };
        const shownQ = query.q?.trim() || undefined;
        // The filter's choices, only for a whole page.
        const categories = representationOf(request) === "page" ? (await deps.posters.acceptedCategories()).map((c) => c.category) : [];
        return answer({ request, set }, {
          json: () => page,
          page: () => BrowsePage({ lang, page, category, q: shownQ, categories, here: pageHere(request) }),
          fragment: () => ListItems({ lang, page, category, q: shownQ }),
        });
      },
      {
        response: {
          200: List,
          422: ErrorModel("A malformed `cursor` or `limit` (`invalid_cursor`, `invalid_request`)", ["invalid_cursor", "invalid_request"]),
          500: Internal,
          503: Unavailable(["database_unavailable"]),
        },
        detail: {
          ...PUBLIC,
          parameters: [
            { name: "category", in: "query", required: false, description: "Only this category (the tagger's tag, e.g. `car`)", schema: { type: "string", maxLength: 60 } },
            { name: "q", in: "query", required: false, description: "Text the description must contain (case-insensitive; Arabic and Persian letter and digit variants match each other)", schema: { type: "string", maxLength: 200 } },
            { name: "cursor", in: "query", required: false, description: "`next_cursor` of the previous page", schema: { type: "string", maxLength: 200 } },
            { name: "limit", in: "query", required: false, description: `Items per page (default ${LIST_DEFAULT})`, schema: { type: "integer", minimum: 1, maximum: LIST_MAX } },
          ],
          summary: "Accepted ads",
          description:
            "What is for sale, newest first, one page at a time (keyset: pass `next_cursor` back as `cursor`). Only accepted ads: pending, rejected and withdrawn ones never appear. (Browsers, by `Accept: text/html`, get the page with its filters.)",
        },
      },
    )
    .get(
      "/ads/:id/thumb",
      async ({ params, request }) => {
        const lang = requestLang(request, deps.defaultLanguage);
        const etag = `"t-${params.id}"`;
        // Revalidated on every use (a 304 without the bytes): a withdrawn ad's thumbnail stops at once.
        const headers = { etag, "cache-control": "no-cache" };
        const cached = (request.headers.get("if-none-match") ?? "").split(",").some((v) => v.trim().replace(/^W\//, "") === etag);
        if (cached && (await deps.posters.acceptedPhoto(params.id))?.thumb_key) return new Response(null, { status: 304, headers });
        const thumb = await thumbnailOf(deps, params.id);
        if (!thumb) return errorResponse(404, "not_found", catalogue(lang).errors.acceptedAdNotFound, { "cache-control": "no-store" });
        // A photo this service cannot decode (WebP): the photo itself stands in.
        if (!thumb.bytes) return new Response(null, { status: 307, headers: { location: `/ads/${params.id}/image`, "cache-control": "no-store" } });
        return new Response(thumb.bytes as Uint8Array<ArrayBuffer>, { headers: { ...headers, "content-type": "image/jpeg" } });
      },
      {
        params: t.Object({ id: t.String({ format: "uuid" }) }),
        detail: {
          ...PUBLIC,
          summary: "An accepted ad's thumbnail",
          description:
            "A small JPEG (at most 320 px on its long side), made once, on the first request, and stored; with an ETag and `Cache-Control: no-cache` (a 304 to a matching If-None-Match, so a withdrawn ad's thumbnail stops at once); a 307 to the photo itself when the service cannot decode it (WebP); 404 unless the ad is accepted.",
          responses: {
            200: { description: "The thumbnail", headers: { ETag: { required: true, schema: t.String() }, "Cache-Control": { required: true, schema: t.String() } }, content: { "image/jpeg": { schema: t.String({ format: "binary" }) } } },
            304: { description: "The client's copy (If-None-Match) is current; no body" },
            307: { description: "No thumbnail can be made here (a WebP photo): the photo itself", headers: { Location: { required: true, schema: t.String() } } },
            404: jsonResponse(ErrorModel("No accepted ad with this id, or it has no thumbnail yet (`not_found`)", ["not_found"])),
            500: jsonResponse(Internal),
            503: jsonResponse(ErrorModel("The database or storage is down (`database_unavailable`, `storage_unavailable`)", ["database_unavailable", "storage_unavailable"]), {
              "Retry-After": { required: true, schema: RetryAfter },
            }),
          },
        },
      },
    );
}
