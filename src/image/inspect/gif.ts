/** GIF (GIF87a / GIF89a) structural walk; see image-inspect.ts. */
import { checkPixels, fail, u16le, type ImageInfo } from "./common";

/** Up to this many 0x00 bytes may follow the trailer (some encoders pad). */
const GIF_MAX_PADDING = 16;

export function inspectGif(b: Uint8Array, maxPixels: number): ImageInfo {
  const n = b.length;
  if (n < 13) fail("truncated", "GIF ends inside its header");
  let width = u16le(b, 6);
  let height = u16le(b, 8);
  checkPixels(width, height, maxPixels);
  let pos = 13;
  const screenFlags = b[10]!;
  if (screenFlags & 0x80) pos += 3 << ((screenFlags & 7) + 1); // global colour table
  let frames = 0;

  for (;;) {
    if (pos >= n) fail("truncated", "GIF ends before its trailer");
    const block = b[pos++]!;
    if (block === 0x3b) break; // trailer
    if (block === 0x2c) {
      // Image descriptor: left, top, width, height (LE16 each), flags.
      if (pos + 9 > n) fail("truncated", "GIF ends inside an image descriptor");
      const right = u16le(b, pos) + u16le(b, pos + 4);
      const bottom = u16le(b, pos + 2) + u16le(b, pos + 6);
      const flags = b[pos + 8]!;
      pos += 9;
      if (right > width || bottom > height) {
        width = Math.max(width, right);
        height = Math.max(height, bottom);
        checkPixels(width, height, maxPixels);
      }
      if (flags & 0x80) pos += 3 << ((flags & 7) + 1); // local colour table
      if (pos >= n) fail("truncated", "GIF ends inside an image");
      if (b[pos]! > 11) fail("malformed", "GIF image has an invalid LZW code size");
      pos = skipSubBlocks(b, pos + 1);
      frames++;
    } else if (block === 0x21) {
      // Extension: label, then data sub-blocks (graphic control, comment, application, text…).
      pos = skipSubBlocks(b, pos + 1);
    } else {
      fail("malformed", "GIF has an invalid block");
    }
  }

  if (frames === 0) fail("malformed", "GIF has no image");
  if (width === 0 || height === 0) fail("malformed", "GIF has a zero dimension");
  if (n - pos > GIF_MAX_PADDING) fail("trailing_data", "GIF has data after its trailer");
  for (let i = pos; i < n; i++) if (b[i] !== 0) fail("trailing_data", "GIF has data after its trailer");
  return { format: "gif", width, height };
}

/** Skips a run of data sub-blocks (length byte + data) through its zero-length terminator. */
function skipSubBlocks(b: Uint8Array, pos: number): number {
  const n = b.length;
  for (;;) {
    if (pos >= n) fail("truncated", "GIF ends inside a data block");
    const size = b[pos]!;
    pos += 1 + size;
    if (size === 0) return pos;
  }
}
