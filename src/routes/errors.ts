import { DependencyError, InputError, type InputProblem } from "../domain/errors";
import type { Logger } from "../platform/logger";
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

const FIELDS = new Set(["description", "email", "image"]);

/** An error as the API states it: status, code, message and any extra headers. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Maps anything thrown in a route to the API's error: InputError → its 4xx; DependencyError →
 * 503 naming the dependency; Elysia's own codes → 400/404/413/415/422; the rest → 500.
 */
export function apiError(code: string | number, error: unknown, log: Logger): ApiError {
  if (error instanceof InputError) return { status: INPUT_STATUS[error.problem], code: error.code, message: error.message };
  if (error instanceof DependencyError) {
    log.error("dependency failure", { dependency: error.dependency, err: error });
    return { status: 503, code: `${error.dependency}_unavailable`, message: `The ${error.dependency} is unavailable; try again shortly`, headers: { "retry-after": "5" } };
  }
  switch (code) {
    case "VALIDATION": {
      const path = String((error as { valueError?: { path?: string } }).valueError?.path ?? "").replace(/^\//, "").split("/")[0] ?? "";
      const field = FIELDS.has(path) ? path : "request";
      return { status: 422, code: `invalid_${field}`, message: `${field} is missing or invalid` };
    }
    case "PARSE":
      return { status: 400, code: "bad_request", message: "The request body could not be parsed; send multipart/form-data" };
    case "INVALID_FILE_TYPE":
      return { status: 415, code: "unsupported_image", message: "image must be a JPEG, PNG, WebP or GIF file" };
    case "NOT_FOUND":
      return { status: 404, code: "not_found", message: "Not found" };
    case "INVALID_COOKIE_SIGNATURE":
      return { status: 400, code: "bad_request", message: "Bad cookie" };
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status === 413) return { status: 413, code: "too_large", message: "The request body is too large" };
  log.error("unhandled error", { err: error });
  return { status: 500, code: "internal", message: "Internal error" };
}

/**
 * The response for anything thrown in a route (see `apiError`): JSON, or, given the request, the
 * HTML a browser gets at the public pages' URLs (`browserVersion`).
 */
export function toErrorResponse(code: string | number, error: unknown, log: Logger, request?: Request): Response {
  const e = apiError(code, error, log);
  const body = errorBody(e.code, e.message);
  return (request && browserVersion(request, e.status, body, e.headers)) || Response.json(body, { status: e.status, headers: e.headers });
}
