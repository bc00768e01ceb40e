/** WebP (RIFF container; RFC 9649) structural walk; see image-inspect.ts. */
import { checkPixels, fail, fourcc, u16le, u24le, u32be, u32le, type ImageInfo } from "./common";

const VP8 = fourcc("VP8 ");
const VP8L = fourcc("VP8L");
const VP8X = fourcc("VP8X");
const ANMF = fourcc("ANMF");

export function inspectWebp(b: Uint8Array, maxPixels: number): ImageInfo {
  const n = b.length;
  const size = u32le(b, 4);
  if (size < 4) fail("malformed", "WebP RIFF size is invalid");
  const riffEnd = 8 + size;
  // The RIFF size must describe the file: exactly, or plus the pad byte after an odd-sized payload.
  if (n !== riffEnd && !(size % 2 === 1 && n === riffEnd + 1)) {
    if (riffEnd > n) {
      // Claims more than is there: a cut file if the last chunk is cut, else a wrong size field.
      if (chunksTile(b, 12, n)) fail("malformed", "WebP RIFF size does not match the file length");
      fail("truncated", "WebP ends inside a chunk");
    }
    // Claims less than is there: appended data if the chunks end where the RIFF says, else a wrong size.
    if (chunksTile(b, 12, riffEnd)) fail("trailing_data", "WebP has data after its RIFF container");
    fail("malformed", "WebP RIFF size does not match the file length");
  }
  if (!chunksTile(b, 12, riffEnd)) fail("malformed", "WebP chunks do not fit its RIFF container");
  if (riffEnd - 12 < 8) fail("malformed", "WebP has no image chunk");

  // Chunks tile [12, riffEnd) exactly, so every header read below is in bounds.
  const firstType = u32be(b, 12);
  const firstSize = u32le(b, 16);
  if (firstType === VP8 || firstType === VP8L) {
    // Simple format: one bitstream chunk (any later chunks are ignored by decoders).
    const { width, height } = bitstreamSize(b, 12);
    checkPixels(width, height, maxPixels);
    return { format: "webp", width, height };
  }
  if (firstType !== VP8X) fail("malformed", "WebP does not start with a VP8, VP8L or VP8X chunk");

  // Extended format: canvas size in VP8X, then image / animation / metadata chunks.
  if (firstSize < 10) fail("malformed", "WebP VP8X chunk is too short");
  const flags = b[20]!;
  const animated = (flags & 0x02) !== 0;
  const width = u24le(b, 24) + 1;
  const height = u24le(b, 27) + 1;
  checkPixels(width, height, maxPixels);

  let images = 0;
  let frames = 0;
  for (let pos = 20 + firstSize + (firstSize & 1); pos < riffEnd; ) {
    const type = u32be(b, pos);
    const csize = u32le(b, pos + 4);
    if (type === VP8 || type === VP8L) {
      if (!animated && images === 0) {
        const image = bitstreamSize(b, pos);
        if (image.width !== width || image.height !== height) fail("malformed", "WebP image size does not match its canvas");
      }
      images++;
    } else if (type === ANMF) {
      checkFrame(b, pos, width, height);
      frames++;
    }
    pos += 8 + csize + (csize & 1);
  }
  if (animated ? frames === 0 : images === 0) fail("malformed", "WebP has no image data");
  return { format: "webp", width, height };
}

/**
 * Whether RIFF chunks (FourCC, LE32 size, data, pad to even) exactly cover b[start, end). The
 * final chunk may omit its pad byte when it ends exactly at `end`.
 */
function chunksTile(b: Uint8Array, start: number, end: number): boolean {
  let pos = start;
  while (pos < end) {
    if (pos + 8 > end) return false;
    for (let i = pos; i < pos + 4; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
    const dataEnd = pos + 8 + u32le(b, pos + 4);
    if (dataEnd > end) return false;
    pos = dataEnd + (dataEnd - pos) % 2;
  }
  return pos === end || pos === end + 1;
}

/** Width and height from a VP8 / VP8L chunk header at `at` (already known to fit in the file). */
function bitstreamSize(b: Uint8Array, at: number): { width: number; height: number } {
  const type = u32be(b, at);
  const size = u32le(b, at + 4);
  const p = at + 8;
  if (type === VP8L) {
    if (size < 5) fail("malformed", "WebP VP8L header is too short");
    if (b[p] !== 0x2f) fail("malformed", "WebP VP8L header has a bad signature");
    const bits = u32le(b, p + 1);
    if (bits >>> 29 !== 0) fail("malformed", "WebP VP8L header has an unknown version");
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  // VP8 (lossy): 3-byte frame tag, then for key frames the start code 9D 01 2A and the size.
  if (size < 10) fail("malformed", "WebP VP8 header is too short");
  const tag = u24le(b, p);
  if ((tag & 1) !== 0) fail("malformed", "WebP VP8 data does not start with a key frame");
  if (((tag >> 1) & 7) > 3) fail("malformed", "WebP VP8 frame has an unknown version");
  if (((tag >> 4) & 1) === 0) fail("unsupported", "WebP VP8 frame is not displayable");
  if (tag >>> 5 > size - 10) fail("malformed", "WebP VP8 first partition overruns its chunk");
  if (b[p + 3] !== 0x9d || b[p + 4] !== 0x01 || b[p + 5] !== 0x2a) fail("malformed", "WebP VP8 frame has a bad start code");
  const width = u16le(b, p + 6) & 0x3fff;
  const height = u16le(b, p + 8) & 0x3fff;
  if (width === 0 || height === 0) fail("malformed", "WebP VP8 frame has a zero dimension");
  return { width, height };
}

/** Checks an ANMF chunk at `at`: the frame lies within the canvas and holds a matching bitstream. */
function checkFrame(b: Uint8Array, at: number, canvasWidth: number, canvasHeight: number): void {
  const size = u32le(b, at + 4);
  const p = at + 8;
  if (size < 16) fail("malformed", "WebP animation frame is too short");
  const x = u24le(b, p) * 2;
  const y = u24le(b, p + 3) * 2;
  const width = u24le(b, p + 6) + 1;
  const height = u24le(b, p + 9) + 1;
  if (x + width > canvasWidth || y + height > canvasHeight) fail("malformed", "WebP animation frame exceeds its canvas");
  const end = p + size;
  if (!chunksTile(b, p + 16, end)) fail("malformed", "WebP animation frame chunks are inconsistent");
  for (let pos = p + 16; pos < end; ) {
    const type = u32be(b, pos);
    const csize = u32le(b, pos + 4);
    if (type === VP8 || type === VP8L) {
      const image = bitstreamSize(b, pos);
      if (image.width !== width || image.height !== height) fail("malformed", "WebP animation frame size does not match its image");
      return;
    }
    pos += 8 + csize + (csize & 1);
  }
  fail("malformed", "WebP animation frame has no image data");
}
