/**
 * Structural inspection of uploaded images (JPEG, PNG, GIF, WebP) without decoding pixels.
 *
 * `inspectImage` walks the container format from the first byte to the last and rejects anything
 * a well-formed file of that format would not contain: truncated files, broken structure, bytes
 * after the end of the image (polyglots such as an image followed by HTML, a script or a ZIP), and
 * pixel bombs (width × height above a cap, checked as soon as the dimensions are known and before
 * any scan of the bulk data). It runs in one linear pass and allocates nothing proportional to the
 * image. It does not decode the compressed data, so a file can pass and still fail to decode.
 *
 * Rejection messages are fixed strings: they never echo bytes (or values) taken from the input.
 */

export type ImageFormat = "jpeg" | "png" | "gif" | "webp";

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

export type ImageRejectReason = "truncated" | "malformed" | "trailing_data" | "too_many_pixels" | "unsupported";

export class ImageRejected extends Error {
  override readonly name = "ImageRejected";
  constructor(
    readonly reason: ImageRejectReason,
    message: string,
  ) {
    super(message);
  }
}

/** Walks the container structure; throws ImageRejected. maxPixels caps width*height. */
export function inspectImage(bytes: Uint8Array, maxPixels: number): ImageInfo {
  if (!(maxPixels > 0)) throw new RangeError("maxPixels must be a positive number");
  const b = bytes;
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xd8) return inspectJpeg(b, maxPixels);
  if (b.length >= 8 && startsWith(b, 0, PNG_SIGNATURE)) return inspectPng(b, maxPixels);
  if (b.length >= 6 && (startsWith(b, 0, GIF87A) || startsWith(b, 0, GIF89A))) return inspectGif(b, maxPixels);
  if (b.length >= 12 && startsWith(b, 0, RIFF) && startsWith(b, 8, WEBP)) return inspectWebp(b, maxPixels);
  return fail("unsupported", "not a JPEG, PNG, GIF or WebP image");
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function fail(reason: ImageRejectReason, message: string): never {
  throw new ImageRejected(reason, message);
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) fail("too_many_pixels", `image has more than ${maxPixels} pixels`);
}

const bytesOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const GIF87A = bytesOf("GIF87a");
const GIF89A = bytesOf("GIF89a");
const RIFF = bytesOf("RIFF");
const WEBP = bytesOf("WEBP");

function startsWith(b: Uint8Array, at: number, sig: readonly number[]): boolean {
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

// Multi-byte reads; callers check bounds first. Results are non-negative Numbers (no int32 wrap).
const u16be = (b: Uint8Array, i: number): number => b[i]! * 0x100 + b[i + 1]!;
const u32be = (b: Uint8Array, i: number): number => b[i]! * 0x1000000 + b[i + 1]! * 0x10000 + b[i + 2]! * 0x100 + b[i + 3]!;
const u16le = (b: Uint8Array, i: number): number => b[i]! + b[i + 1]! * 0x100;
const u24le = (b: Uint8Array, i: number): number => b[i]! + b[i + 1]! * 0x100 + b[i + 2]! * 0x10000;
const u32le = (b: Uint8Array, i: number): number => b[i]! + b[i + 1]! * 0x100 + b[i + 2]! * 0x10000 + b[i + 3]! * 0x1000000;
const fourcc = (s: string): number => u32be(new Uint8Array(bytesOf(s)), 0);

// ---------------------------------------------------------------------------------------------
// JPEG (ITU-T T.81 / JFIF)

/** Up to this many bytes of 0x00 / whitespace may follow EOI (some cameras and tools pad files). */
const JPEG_MAX_PADDING = 1024;

function isSof(m: number): boolean {
  // C0–CF are frame headers except C4 (DHT), C8 (JPG, reserved) and CC (DAC).
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function inspectJpeg(b: Uint8Array, maxPixels: number): ImageInfo {
  const end = jpegEnd(b, 0, maxPixels);
  let pos = end.pos;
  // Multi-picture JPEGs (Android "Ultra HDR" gain maps, MPF stereo pairs) carry further complete
  // JPEGs after the primary one's EOI. Each must itself be a valid JPEG; anything else after an
  // EOI (HTML, a script, a ZIP: a polyglot) is refused.
  while (pos + 3 <= b.length && b[pos] === 0xff && b[pos + 1] === 0xd8 && b[pos + 2] === 0xff) pos = jpegEnd(b, pos, maxPixels).pos;
  const n = b.length;
  const extra = n - pos;
  if (extra > JPEG_MAX_PADDING) fail("trailing_data", "JPEG has data after its end-of-image marker");
  for (let i = pos; i < n; i++) {
    const c = b[i]!;
    if (c !== 0x00 && c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)
      fail("trailing_data", "JPEG has data after its end-of-image marker");
  }
  return { format: "jpeg", width: end.width, height: end.height };
}

/** Walks one JPEG starting at `start` (its SOI); returns its size and the offset just past its EOI. */
function jpegEnd(b: Uint8Array, start: number, maxPixels: number): { pos: number; width: number; height: number } {
  const n = b.length;
  let pos = start + 2; // after SOI
  let width = 0;
  let height = 0;
  let sawSof = false;
  let sawSos = false;

  for (;;) {
    if (pos >= n) fail("truncated", "JPEG ends before its end-of-image marker");
    if (b[pos] !== 0xff) fail("malformed", "JPEG has data outside a segment");
    while (pos < n && b[pos] === 0xff) pos++; // the marker's 0xFF plus any fill bytes
    if (pos >= n) fail("truncated", "JPEG ends before its end-of-image marker");
    const marker = b[pos++]!;

    if (marker === 0xd9) {
      // EOI
      if (!sawSos) fail("malformed", "JPEG has no image data");
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // TEM, RSTn: no payload
    if (marker === 0xd8) fail("malformed", "JPEG has a second start-of-image marker");
    if (marker < 0xc0) fail("malformed", "JPEG has an invalid marker"); // 0x00 and reserved 02–BF

    // Every other marker starts a length-prefixed segment (the length counts itself).
    if (pos + 2 > n) fail("truncated", "JPEG ends inside a segment");
    const len = u16be(b, pos);
    if (len < 2) fail("malformed", "JPEG segment has an invalid length");
    const end = pos + len;
    if (end > n) fail("truncated", "JPEG ends inside a segment");

    if (isSof(marker)) {
      if (sawSof) fail("malformed", "JPEG has more than one frame header");
      if (len < 8) fail("malformed", "JPEG frame header is too short");
      const precision = b[pos + 2]!;
      height = u16be(b, pos + 3);
      width = u16be(b, pos + 5);
      const components = b[pos + 7]!;
      if (components === 0 || len !== 8 + 3 * components) fail("malformed", "JPEG frame header is inconsistent");
      if (precision < 2 || precision > 16) fail("malformed", "JPEG frame header has an invalid precision");
      // Height 0 would defer the height to a DNL marker; no browser supports that.
      if (width === 0 || height === 0) fail("malformed", "JPEG frame has a zero dimension");
      checkPixels(width, height, maxPixels);
      sawSof = true;
      pos = end;
    } else if (marker === 0xda) {
      // SOS: header, then entropy-coded data up to the next real marker.
      if (!sawSof) fail("malformed", "JPEG scan comes before the frame header");
      if (len < 6) fail("malformed", "JPEG scan header is too short");
      const components = b[pos + 2]!;
      if (components < 1 || components > 4 || len !== 6 + 2 * components) fail("malformed", "JPEG scan header is inconsistent");
      sawSos = true;
      pos = skipEntropyData(b, end);
    } else {
      pos = end; // APPn (EXIF, thumbnails, ICC…), COM, DQT, DHT, DRI, DAC, DNL, JPGn…: skipped whole
    }
  }

  return { pos, width, height }; // pos is just past EOI
}

/**
 * Skips entropy-coded data starting at `pos`; returns the offset of the 0xFF that begins the next
 * marker. Inside the data, 0xFF is followed by 0x00 (a stuffed data byte) or an RSTn marker;
 * extra 0xFF bytes are fill.
 */
function skipEntropyData(b: Uint8Array, pos: number): number {
  const n = b.length;
  for (;;) {
    const ff = b.indexOf(0xff, pos); // native scan; the only per-byte work for most of the file
    if (ff < 0) fail("truncated", "JPEG ends inside image data");
    let i = ff + 1;
    while (i < n && b[i] === 0xff) i++;
    if (i >= n) fail("truncated", "JPEG ends inside image data");
    const next = b[i]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      pos = i + 1;
      continue;
    }
    return ff;
  }
}

// ---------------------------------------------------------------------------------------------
// PNG (ISO/IEC 15948, W3C PNG 3rd edition)

const IHDR = fourcc("IHDR");
const PLTE = fourcc("PLTE");
const IDAT = fourcc("IDAT");
const IEND = fourcc("IEND");

/** Allowed bit depths per colour type (PNG spec table 11.1). */
const PNG_BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16], // greyscale
  2: [8, 16], // truecolour
  3: [1, 2, 4, 8], // indexed
  4: [8, 16], // greyscale + alpha
  6: [8, 16], // truecolour + alpha
};

const PNG_MAX_DIMENSION = 0x7fffffff;

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function inspectPng(b: Uint8Array, maxPixels: number): ImageInfo {
  const n = b.length;
  let pos = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  let first = true;
  let sawPlte = false;
  let idat: 0 | 1 | 2 = 0; // 0: none yet, 1: in the IDAT run, 2: run ended
  let zlibHeader = 0; // the first two bytes of the concatenated IDAT data (the zlib header)
  let zlibHeaderBytes = 0;

  for (;;) {
    if (pos + 8 > n) fail("truncated", "PNG ends before its IEND chunk");
    const len = u32be(b, pos);
    if (len > 0x7fffffff) fail("malformed", "PNG chunk has an invalid length");
    const typeAt = pos + 4;
    const dataAt = pos + 8;
    const dataEnd = dataAt + len;
    if (dataEnd + 4 > n) fail("truncated", "PNG ends inside a chunk");
    if (!isLetter(b[typeAt]!) || !isLetter(b[typeAt + 1]!) || !isLetter(b[typeAt + 2]!) || !isLetter(b[typeAt + 3]!))
      fail("malformed", "PNG chunk has an invalid type");
    const type = u32be(b, typeAt);
    if (first && (type !== IHDR || len !== 13)) fail("malformed", "PNG does not start with an IHDR chunk");
    // The CRC covers the type and data. IHDR's is cheap, and the pixel cap is applied right after
    // it, so an oversized image is refused before any other chunk is checksummed.
    if (crc32(b, typeAt, dataEnd) !== u32be(b, dataEnd)) fail("malformed", "PNG chunk checksum mismatch");
    pos = dataEnd + 4;

    if (type === IHDR) {
      if (!first) fail("malformed", "PNG has more than one IHDR chunk");
      first = false;
      width = u32be(b, dataAt);
      height = u32be(b, dataAt + 4);
      const bitDepth = b[dataAt + 8]!;
      colourType = b[dataAt + 9]!;
      if (width === 0 || height === 0 || width > PNG_MAX_DIMENSION || height > PNG_MAX_DIMENSION)
        fail("malformed", "PNG has an invalid dimension");
      if (!PNG_BIT_DEPTHS[colourType]?.includes(bitDepth)) fail("malformed", "PNG has an invalid colour type or bit depth");
      if (b[dataAt + 10] !== 0 || b[dataAt + 11] !== 0 || b[dataAt + 12]! > 1)
        fail("malformed", "PNG has an invalid compression, filter or interlace method");
      checkPixels(width, height, maxPixels);
    } else if (type === IDAT) {
      if (idat === 2) fail("malformed", "PNG IDAT chunks are not consecutive");
      if (colourType === 3 && !sawPlte) fail("malformed", "indexed-colour PNG has no palette before its image data");
      idat = 1;
      for (let i = dataAt; i < dataEnd && zlibHeaderBytes < 2; i++, zlibHeaderBytes++) zlibHeader = zlibHeader * 0x100 + b[i]!;
    } else if (type === IEND) {
      if (len !== 0) fail("malformed", "PNG IEND chunk is not empty");
      if (idat === 0) fail("malformed", "PNG has no image data");
      if (!isZlibHeader(zlibHeader, zlibHeaderBytes)) fail("malformed", "PNG image data is not a zlib stream");
      break;
    } else {
      if (idat === 1) idat = 2;
      if (type === PLTE) {
        if (sawPlte || idat !== 0) fail("malformed", "PNG palette is misplaced");
        if (colourType === 0 || colourType === 4) fail("malformed", "greyscale PNG has a palette");
        if (len === 0 || len % 3 !== 0 || len > 3 * 256) fail("malformed", "PNG palette has an invalid length");
        sawPlte = true;
      } else if ((b[typeAt]! & 0x20) === 0) {
        // Upper-case first letter: a critical chunk a decoder must understand, and we don't.
        fail("malformed", "PNG has an unknown critical chunk");
      }
      // Ancillary chunks (tEXt, iCCP, pHYs, eXIf, APNG's acTL/fcTL/fdAT…) are skipped.
    }
  }

  if (pos !== n) fail("trailing_data", "PNG has data after its IEND chunk");
  return { format: "png", width, height };
}

/** RFC 1950: deflate (CM 8), window ≤ 32 KiB, FCHECK valid, no preset dictionary. */
function isZlibHeader(header: number, count: number): boolean {
  if (count < 2) return false;
  const cmf = header >> 8;
  const flg = header & 0xff;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && header % 31 === 0 && (flg & 0x20) === 0;
}

/** Slicing-by-8 CRC-32 tables (polynomial 0xEDB88320, as used by PNG and zlib). */
const CRC_TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + i] = c;
    }
  }
  return t;
})();

/** CRC-32 of b[start, end). */
function crc32(b: Uint8Array, start: number, end: number): number {
  // Offsets computed from 32-bit lengths may arrive as doubles; forcing int32 keeps JSC on its fast
  // integer loop (about 2x faster). Uploads are far below 2 GiB; beyond that the CRC would just fail.
  end |= 0;
  const t = CRC_TABLES;
  let c = -1;
  let i = start | 0;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + b[i + 4]!]! ^
      t[512 + b[i + 5]!]! ^
      t[256 + b[i + 6]!]! ^
      t[b[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// GIF (GIF87a / GIF89a)

/** Up to this many 0x00 bytes may follow the trailer (some encoders pad). */
const GIF_MAX_PADDING = 16;

function inspectGif(b: Uint8Array, maxPixels: number): ImageInfo {
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

// ---------------------------------------------------------------------------------------------
// WebP (RIFF container; RFC 9649)

const VP8 = fourcc("VP8 ");
const VP8L = fourcc("VP8L");
const VP8X = fourcc("VP8X");
const ANMF = fourcc("ANMF");

function inspectWebp(b: Uint8Array, maxPixels: number): ImageInfo {
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
