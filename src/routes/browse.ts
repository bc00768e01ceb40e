/**
 * What is for sale: `GET /ads` lists accepted ads, newest first (a page for browsers, an htmx
 * fragment for the "more" link, JSON for API clients), with a category filter, a text search that
 * folds Arabic/Persian variants, and keyset pagination; `GET /ads/{id}/thumb` serves the small
 * JPEG made once per accepted ad, revalidated by ETag. Withdrawn, rejected and pending ads never appear.
 */
import { Elysia, t } from "elysia";
import type { ListedAd, PosterRepository } from "../database/poster-repository";
import { t as catalogue, type Lang } from "../i18n";
import { normalizeForSearch } from "../i18n/text";
import type { ImageStorage } from "../storage/storage";
import { BrowsePage, ListItems, type ListPage } from "../views/public/browse";
import { answer, representationOf } from "./answer";
import { ErrorModel, Internal, jsonResponse, PUBLIC, RetryAfter, Unavailable } from "./api-models";
import { errorResponse } from "./errors";
import { pageHere, requestLang } from "./lang";

export interface BrowseDeps {
  posters: PosterRepository;
  storage: ImageStorage;
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
    thumbnail_url: t.String({ description: "A small JPEG of the photo (cacheable), or the photo itself until the thumbnail exists" }),
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
      async ({ query, request, set, status }) => {
        const lang = requestLang(request, deps.defaultLanguage);
        const after = decodeCursor(query.cursor);
        if (after === null) return status(422, { error: { code: "invalid_cursor", message: catalogue(lang).browse.badCursor } });
        const limit = query.limit ?? LIST_DEFAULT;
        const category = query.category?.trim() || undefined;
        const q = query.q?.trim() ? normalizeForSearch(query.q.trim()).slice(0, 100) : undefined;
        const rows = await deps.posters.listAccepted({ category, text: q, after, limit: limit + 1 });
        const items = rows.slice(0, limit);
        const page: ListPage = {
          items: items.map((r) => ({
            id: r.id,
            description: r.description,
            category: r.category,
            created_at: r.created_at.toISOString(),
            thumbnail_url: r.thumb_key ? `/ads/${r.id}/thumb` : `/ads/${r.id}/image`,
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
        query: t.Object({
          category: t.Optional(t.String({ maxLength: 60, description: "Only this category (the tagger's tag, e.g. `car`)" })),
          q: t.Optional(t.String({ maxLength: 200, description: "Text the description must contain (case-insensitive; Arabic and Persian letter and digit variants match each other)" })),
          cursor: t.Optional(t.String({ maxLength: 200, description: "`next_cursor` of the previous page" })),
          limit: t.Optional(t.Numeric({ minimum: 1, maximum: LIST_MAX, description: `Items per page (default ${LIST_DEFAULT})` })),
        }),
        response: {
          200: List,
          422: ErrorModel("A malformed `cursor` or `limit` (`invalid_cursor`, `invalid_request`)", ["invalid_cursor", "invalid_request"]),
          500: Internal,
          503: Unavailable(["database_unavailable"]),
        },
        detail: {
          ...PUBLIC,
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
        const missing = () => errorResponse(404, "not_found", catalogue(lang).errors.acceptedAdNotFound, { "cache-control": "no-store" });
        const key = await deps.posters.acceptedThumbKey(params.id);
        if (!key) return missing();
        const etag = `"t-${params.id}"`;
        // Revalidated on every use (a 304 without the bytes): a withdrawn ad's thumbnail stops at once.
        const headers = { etag, "cache-control": "no-cache" };
        if ((request.headers.get("if-none-match") ?? "").split(",").some((v) => v.trim().replace(/^W\//, "") === etag)) return new Response(null, { status: 304, headers });
        const obj = await deps.storage.get(key);
        if (!obj) return missing();
        return new Response(obj.bytes as Uint8Array<ArrayBuffer>, { headers: { ...headers, "content-type": "image/jpeg" } });
      },
      {
        params: t.Object({ id: t.String({ format: "uuid" }) }),
        detail: {
          ...PUBLIC,
          summary: "An accepted ad's thumbnail",
          description:
            "A small JPEG (at most 320 px on its long side) made once when the ad was accepted, with an ETag and `Cache-Control: no-cache` (a 304 to a matching If-None-Match, so a withdrawn ad's thumbnail stops at once); 404 unless the ad is accepted and has one (then use the photo).",
          responses: {
            200: { description: "The thumbnail", headers: { ETag: { required: true, schema: t.String() }, "Cache-Control": { required: true, schema: t.String() } }, content: { "image/jpeg": { schema: t.String({ format: "binary" }) } } },
            304: { description: "The client's copy (If-None-Match) is current; no body" },
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
