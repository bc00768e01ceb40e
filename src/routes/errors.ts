import { DependencyError, InputError, type InputDetail, type InputProblem } from "../domain/errors";
import { t, type Lang } from "../i18n";
import type { Logger } from "../platform/logger";
import { VARY } from "./answer";
import { requestLang } from "./lang";
import { browserVersion } from "./public";

/** The one error body shape of the API. Messages never echo the client's input. */
export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** JSON error response. */
export function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json(errorBody(code, message), { status, headers });
}

/** The HTTP status of each kind of input problem. */
const INPUT_STATUS: Record<InputProblem, number> = { invalid: 422, unknown: 404, too_large: 413, unsupported: 415 };

const FIELDS = new Set(["description", "email", "image"] as const);
type Field = "description" | "email" | "image" | "request";

const IMAGE_PROBLEMS = { truncated: "truncated", malformed: "malformed", trailing_data: "trailingData" } as const;

/** An input problem's message in a language, from the catalogue (see `messageFor`). */
function detailMessage(lang: Lang, detail: InputDetail, english: string): string {
  const e = t(lang).errors;
  switch (detail.key) {
    case "descriptionTooLong":
      return e.descriptionTooLong(detail.max);
    case "imageTooLarge":
      return e.imageTooLarge(detail.maxBytes);
    case "invalidImage": {
      // English keeps the walk's own, more precise sentence ("JPEG ends inside a segment").
      if (lang === "en") return english;
      const problem = detail.problem === "too_many_pixels" ? e.imageProblems.tooManyPixels(detail.maxPixels) : e.imageProblems[IMAGE_PROBLEMS[detail.problem]];
      return e.invalidImage(problem);
    }
    case "unsupportedImage":
      // English keeps the structure walk's sentence when it has one ("WebP VP8 frame is not displayable").
      return lang === "en" ? english : e.unsupportedImage;
    default:
      return e[detail.key];
  }
}

/**
 * The message of an error the client must fix, in the client's language. The domain throws with
 * English text and a `detail` naming the catalogue entry; an error without one (an operator's
 * action, say) keeps its English text, except the codes the catalogue knows.
 */
export function messageFor(lang: Lang, error: InputError): string {
  if (error.detail) return detailMessage(lang, error.detail, error.message);
  if (error.code === "not_found") return t(lang).errors.adNotFound;
  return error.message;
}

/** An error as the API states it: status, code, message and any extra headers. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Maps anything thrown in a route to the API's error, its message in `lang`: InputError → its
 * 4xx; DependencyError → 503 naming the dependency; Elysia's own codes → 400/404/413/415/422;
 * the rest → 500. Codes never change with the language.
 */
export function apiError(code: string | number, error: unknown, log: Logger, lang: Lang = "en"): ApiError {
  const e = t(lang).errors;
  if (error instanceof InputError) return { status: INPUT_STATUS[error.problem], code: error.code, message: messageFor(lang, error) };
  if (error instanceof DependencyError) {
    log.error("dependency failure", { dependency: error.dependency, err: error });
    return { status: 503, code: `${error.dependency}_unavailable`, message: e.unavailable(e.dependencies[error.dependency]), headers: { "retry-after": "5" } };
  }
  switch (code) {
    case "VALIDATION": {
      const path = String((error as { valueError?: { path?: string } }).valueError?.path ?? "").replace(/^\//, "").split("/")[0] ?? "";
      const field: Field = FIELDS.has(path as never) ? (path as Field) : "request";
      return { status: 422, code: `invalid_${field}`, message: e.invalidField(e.fields[field]) };
    }
    case "PARSE":
      return { status: 400, code: "bad_request", message: e.badRequest };
    case "INVALID_FILE_TYPE":
      return { status: 415, code: "unsupported_image", message: e.unsupportedImage };
    case "NOT_FOUND":
      return { status: 404, code: "not_found", message: e.notFound };
    case "INVALID_COOKIE_SIGNATURE":
      return { status: 400, code: "bad_request", message: e.badCookie };
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status === 413) return { status: 413, code: "too_large", message: e.tooLarge };
  log.error("unhandled error", { err: error });
  return { status: 500, code: "internal", message: e.internal };
}

/**
 * The response for anything thrown in a route (see `apiError`), in the request's language
 * (`fallback`: DEFAULT_LANGUAGE): JSON, or, given the request, the HTML a browser gets at the
 * public pages' URLs (`browserVersion`).
 */
export function toErrorResponse(code: string | number, error: unknown, log: Logger, request?: Request, fallback: Lang = "en"): Response {
  const lang = request ? requestLang(request, fallback) : fallback;
  const e = apiError(code, error, log, lang);
  const body = errorBody(e.code, e.message);
  // The message follows the language, the representation the request: caches key on both.
  const headers = { ...e.headers, vary: VARY };
  return (request && browserVersion(request, e.status, body, headers, lang)) || Response.json(body, { status: e.status, headers });
}
