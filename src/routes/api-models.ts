/**
 * The pieces of the API document the public routes share: the one error shape per status, the
 * common headers, and the wording about languages.
 */
import { withHeaders } from "@elysiajs/openapi";
import { t, type TSchema } from "elysia";
import { t as catalogue } from "../i18n";

/**
 * The one error shape, documented per status (the schema's description is the response's
 * description in the API document; its title names the type for client generators).
 */
export const ErrorModel = (description: string, codes: string[]) =>
  t.Object(
    {
      error: t.Object({
        code: t.String({ description: "A stable, machine-readable code", examples: codes }),
        message: t.String({ description: "For people, in the request's language (Accept-Language); never echoes the request" }),
      }),
    },
    { title: "Error", description },
  );

export const RetryAfter = t.String({ pattern: "^[0-9]+$", description: "Seconds to wait before trying again" });

/** A dependency is down: 503 with `Retry-After`. */
export const Unavailable = (codes: string[]) =>
  withHeaders(ErrorModel("A dependency is down (`<dependency>_unavailable`); nothing was changed. Try again after `Retry-After` seconds.", codes), {
    "Retry-After": RetryAfter,
  });

export const Internal = ErrorModel("An unexpected error (`internal`)", ["internal"]);

export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];
export const ETAG = { required: true, description: "The stored object's entity tag", schema: t.String({ pattern: '^(W/)?"[^"]*"$' }) };
export const NO_CACHE = { required: true, description: "Revalidate on every use", schema: t.Literal("no-cache") };

/** A documented JSON answer for a route whose answers are Response objects (so not validated by Elysia). */
export function jsonResponse(schema: TSchema & { description?: string }, headers?: Record<string, { required: boolean; schema: TSchema }>) {
  return { description: schema.description ?? "", ...(headers ? { headers } : {}), content: { "application/json": { schema } } };
}

// Every route here is public: no credentials (stated per operation, as API linters expect).
export const PUBLIC = { security: [] };

// The API document speaks English; each answer's `message` follows the request's language.
export const EN = catalogue("en");
export const EXAMPLE_ID = "0198f3c2-8b1e-7d4a-9c55-2f0e6a1b3c4d";
export const MESSAGE = "For people, in the request's language (`?lang=`, the `lang` cookie, Accept-Language: `fa` or `en`)";

