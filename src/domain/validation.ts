import { charLength, nfc } from "../i18n/text";
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

/**
 * A description's longest form in UTF-16 units, checked before counting: a character as people
 * count it (a grapheme) is usually one or two units, a Persian letter with its vowel marks two or
 * three, so 8 × the limit leaves room for any real text and refuses a multi-megabyte field
 * without segmenting it.
 */
const DESCRIPTION_MAX_UNITS = 8 * DESCRIPTION_MAX;

/**
 * The database's own guard on a description (sql/007: `char_length(description) between 1 and
 * 20000`) counts code points; a description must also fit it, or it would be refused by the
 * database (a 503) instead of here (a 422). 5000 characters with vowel marks fit easily.
 */
const DESCRIPTION_MAX_CODE_POINTS = 20_000;

/** Code points in a string, without iterating it (a surrogate pair is one). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const h = s.charCodeAt(i - 1);
      if (h >= 0xd800 && h <= 0xdbff) n--;
    }
  }
  return n;
}

/**
 * Normalises (NFC: one spelling for what looks the same, as it is stored and searched), trims and
 * checks a description; throws InputError (invalid) when it is empty or too long. The limit is in
 * characters as people count them (`charLength`: graphemes), never bytes or UTF-16 units, so a
 * Persian letter with its vowel marks counts as one, as an English one does.
 */
export function validateDescription(raw: unknown): string {
  if (typeof raw !== "string") throw new InputError("invalid", "invalid_description", "description is required", { key: "descriptionRequired" });
  const tooLong = () =>
    new InputError("invalid", "invalid_description", `description must be at most ${DESCRIPTION_MAX} characters`, { key: "descriptionTooLong", max: DESCRIPTION_MAX });
  if (raw.length > DESCRIPTION_MAX_UNITS + 1024) throw tooLong(); // surrounding space aside, far too long: no normalising
  const text = nfc(raw).trim();
  if (text.length === 0) throw new InputError("invalid", "invalid_description", "description must not be empty", { key: "descriptionEmpty" });
  if (text.length > DESCRIPTION_MAX_UNITS || charLength(text) > DESCRIPTION_MAX || codePoints(text) > DESCRIPTION_MAX_CODE_POINTS) throw tooLong();
  if (/\u0000/.test(text)) throw new InputError("invalid", "invalid_description", "description must not contain NUL characters", { key: "descriptionNul" });
  return text;
}

/** Checks one e-mail address (no CR/LF, no lists, sane length); returns it trimmed. */
export function validateEmail(raw: unknown): string {
  if (typeof raw !== "string") throw new InputError("invalid", "invalid_email", "email is required", { key: "emailRequired" });
  const email = raw.trim();
  if (email.length === 0) throw new InputError("invalid", "invalid_email", "email is required", { key: "emailRequired" });
  if (email.length > EMAIL_MAX || /[\r\n]/.test(raw) || !EMAIL.test(email) || email.split("@")[0]!.length > 64)
    throw new InputError("invalid", "invalid_email", "email must be one valid e-mail address", { key: "emailInvalid" });
  return email;
}

/**
 * Checks an uploaded image: size, magic bytes (the declared type is ignored), then the whole
 * container structure, which refuses truncated files, polyglots (data after the image's end)
 * and decompression bombs (more than `maxPixels` pixels). Returns its real type.
 */
export function validateImage(bytes: Uint8Array, maxBytes: number, maxPixels = 50_000_000): ImageKind & { width: number; height: number } {
  if (bytes.length === 0) throw new InputError("invalid", "invalid_image", "image must not be empty", { key: "imageEmpty" });
  if (bytes.length > maxBytes) throw new InputError("too_large", "image_too_large", `image must be at most ${maxBytes} bytes`, { key: "imageTooLarge", maxBytes });
  const kind = sniffImage(bytes);
  if (!kind) throw new InputError("unsupported", "unsupported_image", "image must be a JPEG, PNG, WebP or GIF file", { key: "unsupportedImage" });
  try {
    const info = inspectImage(bytes, maxPixels);
    return { ...kind, width: info.width, height: info.height };
  } catch (err) {
    if (!(err instanceof ImageRejected)) throw err;
    if (err.reason === "unsupported") throw new InputError("unsupported", "unsupported_image", err.message, { key: "unsupportedImage" });
    throw new InputError("invalid", "invalid_image", `image is not a valid picture: ${err.message}`, { key: "invalidImage", problem: err.reason, maxPixels });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a path parameter can be an ad id (anything else is a 404 without a database trip). */
export function isAdId(id: string): boolean {
  return UUID.test(id);
}
