/**
 * Each route chooses its own answer from the request, hypermedia style (Contact.app): JSON for API
 * clients, a whole page for a browser, or just the fragment an htmx request swaps in. Only the
 * chosen representation is built; nothing is rendered from another answer.
 */
import { html } from "@elysiajs/html";
import Negotiator from "negotiator";

export type Representation = "json" | "page" | "fragment";

/**
 * Answers chosen by `answer` differ by these request headers: caches must key on them. The
 * representation follows Accept and HX-Request; the language of pages and `message`s follows
 * Accept-Language and the `lang` cookie (src/routes/lang.ts).
 */
export const VARY = "Accept, HX-Request, Accept-Language, Cookie";

export const HTML_CONTENT_TYPE = "text/html; charset=utf-8";

/**
 * @elysiajs/html, configured once: a route that only ever answers HTML returns its JSX and the
 * plugin makes it a `text/html; charset=utf-8` response (the security headers set at request time
 * are kept: Elysia merges them into every response).
 */
export const htmlPlugin = html({ contentType: HTML_CONTENT_TYPE });

// The order is the tie-break when the client ranks both the same (`*/*`, or no Accept): JSON.
const OFFERED = ["application/json", "text/html"];

/** True when the Accept header (negotiated with `negotiator`) prefers text/html to JSON. */
export function prefersHtml(accept: string | null): boolean {
  if (!accept) return false;
  return new Negotiator({ headers: { accept } }).mediaType(OFFERED) === "text/html";
}

/**
 * What the request asks for: htmx requests get HTML (the fragment, unless htmx wants the whole
 * page: a history restore or a full-body request); other clients get HTML only when their Accept
 * header prefers it (a browser navigating); everything else gets JSON.
 */
export function representationOf(request: Request): Representation {
  const h = request.headers;
  const htmx = h.get("hx-request") === "true";
  if (!htmx) return prefersHtml(h.get("accept")) ? "page" : "json";
  return h.get("hx-history-restore-request") === "true" || h.get("hx-request-type") === "full" ? "page" : "fragment";
}

/** An HTML answer to a request that could also have been answered with JSON (revalidated on every use unless `headers` says otherwise). */
export function htmlAnswer(body: string, status = 200, headers: HeadersInit = {}): Response {
  const res = new Response(body, { status, headers });
  res.headers.set("content-type", HTML_CONTENT_TYPE);
  if (!res.headers.has("cache-control")) res.headers.set("cache-control", "no-cache");
  res.headers.set("vary", VARY);
  return res;
}

export interface Representations<J> {
  /** The API's answer (validated against the route's response schema, as any JSON answer is). */
  json: () => J;
  /** The whole page, for a browser navigating to the URL. */
  page: () => string;
  /** The part htmx swaps in; the page when absent. */
  fragment?: () => string;
}

/** The part of Elysia's context `answer` needs: the request, and the response's headers. */
export interface AnswerContext {
  request: Request;
  set: { headers: Record<string, unknown> };
}

/**
 * Answers the request with the one representation it asks for (see `representationOf`). The
 * status and headers are the route's own (`set`); `Vary` is added to every form.
 *
 * HTML comes back as a Response, which Elysia passes through without checking it against the
 * route's (JSON) response schema; it is typed as the JSON answer so that routes with response
 * schemas still type-check their JSON.
 */
export function answer<J>({ request, set }: AnswerContext, representations: Representations<J>): J {
  set.headers.vary = VARY;
  const wanted = representationOf(request);
  if (wanted === "json") return representations.json();
  const view = wanted === "fragment" && representations.fragment ? representations.fragment() : representations.page();
  // Status 200 here means "the route's": Elysia gives the Response `set.status` when merging.
  return htmlAnswer(view) as J;
}
