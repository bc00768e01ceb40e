/**
 * The EXIF orientation of a JPEG, read with exifr (its orientation-only reader: IFD0 tag 0x0112,
 * nothing else parsed). exifr reads a Uint8Array in place: it wraps the caller's buffer in a
 * DataView and hands out views of it, never a copy of the file; in a JPEG it walks the marker
 * segments only up to the first scan (SOS) and stops at the first EXIF APP1.
 */
import { orientation } from "exifr";

/**
 * EXIF orientation (1-8; 1 when absent or unreadable) of a JPEG file, a TIFF structure (the EXIF
 * block itself, starting "II*\0" or "MM\0*"), or a JPEG APP1 payload starting at "Exif\0\0" (or,
 * as jpeg-js hands it over, at the second NUL of "Exif\0\0").
 */
export async function exifOrientation(bytes: Uint8Array): Promise<number> {
  let b = bytes;
  // exifr knows files (JPEG, TIFF...), not bare APP1 payloads: skip the APP1 identifier (a view, no copy).
  if (b.length >= 6 && b[0] === 0x45 && b[1] === 0x78 && b[2] === 0x69 && b[3] === 0x66) b = b.subarray(6);
  else if (b.length >= 1 && b[0] === 0 && (b[1] === 0x49 || b[1] === 0x4d)) b = b.subarray(1);
  if (b.length < 8) return 1; // shorter than a TIFF header (exifr would throw on the read)
  try {
    const v = await orientation(b);
    return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 8 ? v : 1;
  } catch {
    return 1; // not JPEG or TIFF, or EXIF too broken to read: shown as stored, as browsers do
  }
}
