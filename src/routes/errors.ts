import { DependencyError, InputError } from "../services/errors";
import type { Logger } from "../services/logger";

/** The one error body shape of the API. Messages never echo the client's input. */
export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** JSON error response. */
export function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json(errorBody(code, message), { status, headers });
}

const FIELDS = new Set(["description", "email", "image"]);

/**
 * Maps anything thrown in a route to a response: InputError → its 4xx; DependencyError → 503
 * naming the dependency; Elysia's own codes → 400/404/413/415/422; the rest → 500.
 */
export function toErrorResponse(code: string | number, error: unknown, log: Logger): Response {
  if (error instanceof InputError) return errorResponse(error.status, error.code, error.message);
  if (error instanceof DependencyError) {
    log.error("dependency failure", { dependency: error.dependency, err: error });
    return errorResponse(503, `${error.dependency}_unavailable`, `The ${error.dependency} is unavailable; try again shortly`, { "retry-after": "5" });
  }
  switch (code) {
    case "VALIDATION": {
      const path = String((error as { valueError?: { path?: string } }).valueError?.path ?? "").replace(/^\//, "").split("/")[0] ?? "";
      const field = FIELDS.has(path) ? path : "request";
      return errorResponse(422, `invalid_${field}`, `${field} is missing or invalid`);
    }
    case "PARSE":
      return errorResponse(400, "bad_request", "The request body could not be parsed; send multipart/form-data");
    case "INVALID_FILE_TYPE":
      return errorResponse(415, "unsupported_image", "image must be a JPEG, PNG, WebP or GIF file");
    case "NOT_FOUND":
      return errorResponse(404, "not_found", "Not found");
    case "INVALID_COOKIE_SIGNATURE":
      return errorResponse(400, "bad_request", "Bad cookie");
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status === 413) return errorResponse(413, "too_large", "The request body is too large");
  log.error("unhandled error", { err: error });
  return errorResponse(500, "internal", "Internal error");
}
