import { InputError } from "./errors";
import { ImageRejected, inspectImage } from "../image/inspect";
import { sniffImageFormat, type ImageFormat } from "../image/sniff";

export type ImageKind = { contentType: "image/jpeg" | "image/png" | "image/gif" | "image/webp"; ext: string };

const KINDS: Record<ImageFormat, ImageKind> = {
  jpeg: { contentType: "image/jpeg", ext: "jpg" },
  png: { contentType: "image/png", ext: "png" },
  gif: { contentType: "image/gif", ext: "gif" },
  webp: { contentType: "image/webp", ext: "webp" },
};

/** Identifies an allowed image by its magic bytes (the declared type is ignored). */
export function sniffImage(bytes: Uint8Array): ImageKind | null {
  const format = sniffImageFormat(bytes);
  return format ? { ...KINDS[format] } : null;
}

export const DESCRIPTION_MAX = 5000;
export const EMAIL_MAX = 254;

// A pragmatic address check (WHATWG's input[type=email] rule): one address, no display name,
// no comments, no whitespace or control characters, a dotted domain.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Trims and checks a description; throws InputError (invalid) when it is empty or too long. */
export function validateDescription(raw: unknown): string {
  if (typeof raw !== "string") throw new InputError("invalid", "invalid_description", "description is required");
  const text = raw.trim();
  if (text.length === 0) throw new InputError("invalid", "invalid_description", "description must not be empty");
  // A code point is one or two UTF-16 units: over 2 × the limit in units is too long without
  // counting (so a multi-megabyte field is refused without walking it character by character).
  if (text.length > 2 * DESCRIPTION_MAX || [...text].length > DESCRIPTION_MAX)
    throw new InputError("invalid", "invalid_description", `description must be at most ${DESCRIPTION_MAX} characters`);
  if (/\u0000/.test(text)) throw new InputError("invalid", "invalid_description", "description must not contain NUL characters");
  return text;
}

/** Checks one e-mail address (no CR/LF, no lists, sane length); returns it trimmed. */
export function validateEmail(raw: unknown): string {
  if (typeof raw !== "string") throw new InputError("invalid", "invalid_email", "email is required");
  const email = raw.trim();
  if (email.length === 0) throw new InputError("invalid", "invalid_email", "email is required");
  if (email.length > EMAIL_MAX || /[\r\n]/.test(raw) || !EMAIL.test(email) || email.split("@")[0]!.length > 64)
    throw new InputError("invalid", "invalid_email", "email must be one valid e-mail address");
  return email;
}

/**
 * Checks an uploaded image: size, magic bytes (the declared type is ignored), then the whole
 * container structure, which refuses truncated files, polyglots (data after the image's end)
 * and decompression bombs (more than `maxPixels` pixels). Returns its real type.
 */
export function validateImage(bytes: Uint8Array, maxBytes: number, maxPixels = 50_000_000): ImageKind & { width: number; height: number } {
  if (bytes.length === 0) throw new InputError("invalid", "invalid_image", "image must not be empty");
  if (bytes.length > maxBytes) throw new InputError("too_large", "image_too_large", `image must be at most ${maxBytes} bytes`);
  const kind = sniffImage(bytes);
  if (!kind) throw new InputError("unsupported", "unsupported_image", "image must be a JPEG, PNG, WebP or GIF file");
  try {
    const info = inspectImage(bytes, maxPixels);
    return { ...kind, width: info.width, height: info.height };
  } catch (err) {
    if (!(err instanceof ImageRejected)) throw err;
    if (err.reason === "unsupported") throw new InputError("unsupported", "unsupported_image", err.message);
    throw new InputError("invalid", "invalid_image", `image is not a valid picture: ${err.message}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a path parameter can be an ad id (anything else is a 404 without a database trip). */
export function isAdId(id: string): boolean {
  return UUID.test(id);
}
