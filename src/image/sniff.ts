/**
 * Magic-byte sniffing: which image format some bytes start with. The one place these signatures
 * live; intake (validation.ts), the structural walk (image-inspect.ts) and the offline decoder
 * (image/decode.ts) all ask here. The declared content type is never trusted.
 */

export type ImageFormat = "jpeg" | "png" | "gif" | "webp";

export interface SniffOptions {
  /**
   * Take a JPEG's start-of-image marker alone (FF D8) as JPEG. By default a JPEG must also show the
   * 0xFF of its next marker (FF D8 FF, as browsers sniff it), so "FF D8" then anything else is no
   * image at all. The structural walk sets this to report such files as broken JPEGs
   * ("truncated", "malformed") rather than as an unknown format.
   */
  jpegSoiOnly?: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const; // \x89PNG\r\n\x1a\n
const GIF87A = [0x47, 0x49, 0x46, 0x38, 0x37, 0x61] as const; // GIF87a
const GIF89A = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61] as const; // GIF89a
const RIFF = [0x52, 0x49, 0x46, 0x46] as const; // RIFF
const WEBP = [0x57, 0x45, 0x42, 0x50] as const; // WEBP (after the 4-byte RIFF size)

function has(b: Uint8Array, at: number, sig: readonly number[]): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

/** The image format `bytes` start with (JPEG, PNG, GIF87a/89a, WebP), or null. Reads at most 12 bytes. */
export function sniffImageFormat(bytes: Uint8Array, opts: SniffOptions = {}): ImageFormat | null {
  const b = bytes;
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xd8 && (opts.jpegSoiOnly || b[2] === 0xff)) return "jpeg";
  if (has(b, 0, PNG_SIGNATURE)) return "png";
  if (has(b, 0, GIF87A) || has(b, 0, GIF89A)) return "gif";
  if (has(b, 0, RIFF) && has(b, 8, WEBP)) return "webp";
  return null;
}
