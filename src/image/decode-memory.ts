/**
 * How much memory an offline decode will take, read from the image's header before any pixel is
 * decoded, and the cap above which the decode is refused (`DecodeTooLarge`). Used by
 * image/decode.ts (and image/gif-decode.ts for the frame it finds).
 */
import { sniffImageFormat } from "./sniff";

/**
 * The most memory one offline decode may take, estimated from the image's header before any
 * pixel is decoded (see `decodeMemoryEstimate`). The pure-JS decoders hold whole images, several
 * times over: an upload inside the intake caps (10 MiB, 50 MP) can need over 1 GiB, e.g. a
 * 7071×7071 16-bit RGBA PNG (~400 KB when uniform). Above this the decode is refused with a
 * permanent error (the ad goes to `failed`, for an operator), and the process lives on.
 * 320 MiB admits a 24 MP phone JPEG (4:2:0, estimated ~270 MiB; RSS grows ~18 % more than the
 * estimate) and refuses 16-bit bombs and anything near the 50 MP intake cap as JPEG.
 * What fits: JPEG 4:2:0 up to ~24 MP, 4:4:4 up to ~15 MP; 8-bit PNG up to ~20 MP (RGBA) or
 * ~25 MP (RGB); GIF up to ~50 MP (the intake cap).
 */
export const MAX_DECODE_BYTES = 320 * 1024 * 1024;

/** Thrown by the decoders when an image would need more than the allowed memory. */
export class DecodeTooLarge extends Error {
  override readonly name = "DecodeTooLarge";
  constructor(
    readonly width: number,
    readonly height: number,
    readonly estimatedBytes: number,
    readonly maxBytes: number,
  ) {
    const mib = (n: number) => Math.ceil(n / 1048576);
    super(`decoding this ${width}×${height} image would need about ${mib(estimatedBytes)} MiB; the limit is ${mib(maxBytes)} MiB`);
  }
}

export interface DecodeEstimate {
  width: number;
  height: number;
  /** Bytes the decoder will allocate at its peak (what it holds at once, garbage included). */
  bytes: number;
  /** PNG: the size of the inflated image data. */
  rawBytes?: number;
  /** PNG: Adam7-interlaced. */
  interlaced?: boolean;
}

/**
 * How much memory decoding `b` will take, from its header alone (nothing is decoded); null when
 * the header cannot be read (the decoder then fails on its own) or for WebP. The figures follow
 * what the decoders used here allocate:
 * - JPEG (jpeg-js): 256 bytes per 8×8 block of coefficients of each component (blocks padded
 *   to whole MCUs), the component planes, one interleaved copy (w·h·components), the RGB output.
 * - PNG (pngjs, sync): the inflated data, the unfiltered lines and their concatenation (3 × the
 *   raw size, which counts bit depth, channels and the filter byte per row, per Adam7 pass when
 *   interlaced), the bitmap (RGBA, 16-bit samples for 16-bit images) and, for 16-bit images,
 *   the 8-bit RGBA copy; plus the raw size again for our own inflate check of interlaced images.
 * - GIF (image/gif-decode.ts): the LZW data, one index per frame pixel, the RGB canvas.
 */
export function decodeMemoryEstimate(b: Uint8Array): DecodeEstimate | null {
  switch (sniffImageFormat(b)) {
    case "jpeg":
      return jpegEstimate(b);
    case "png":
      return pngEstimate(b);
    case "gif":
      return gifEstimate(b);
    default:
      return null;
  }
}

function jpegEstimate(b: Uint8Array): DecodeEstimate | null {
  const n = b.length;
  let pos = 2;
  while (pos + 4 <= n) {
    if (b[pos] !== 0xff) return null;
    while (pos < n && b[pos] === 0xff) pos++;
    const marker = b[pos++];
    if (marker === undefined) return null;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no payload
    if (marker === 0xd9 || marker === 0xda) return null; // EOI / SOS before any frame header
    if (pos + 2 > n) return null;
    const len = (b[pos]! << 8) | b[pos + 1]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 8 > n) return null;
      const height = (b[pos + 3]! << 8) | b[pos + 4]!;
      const width = (b[pos + 5]! << 8) | b[pos + 6]!;
      const count = b[pos + 7]!;
      if (pos + 8 + 3 * count > n || count === 0) return null;
      const comps: Array<{ h: number; v: number }> = [];
      for (let i = 0; i < count; i++) {
        const hv = b[pos + 8 + 3 * i + 1]!;
        comps.push({ h: Math.max(1, hv >> 4), v: Math.max(1, hv & 15) });
      }
      const maxH = Math.max(...comps.map((c) => c.h));
      const maxV = Math.max(...comps.map((c) => c.v));
      const mcusPerLine = Math.ceil(width / 8 / maxH);
      const mcusPerColumn = Math.ceil(height / 8 / maxV);
      let bytes = n; // jpeg-js copies its input
      for (const c of comps) {
        bytes += mcusPerColumn * c.v * (mcusPerLine * c.h) * 256; // coefficient blocks (Int32 × 64)
        const blocksPerLine = Math.ceil((Math.ceil(width / 8) * c.h) / maxH);
        const blocksPerColumn = Math.ceil((Math.ceil(height / 8) * c.v) / maxV);
        bytes += blocksPerLine * 8 * blocksPerColumn * 8; // the component's sample lines
      }
      bytes += width * height * count; // interleaved samples (getData)
      bytes += width * height * 3; // RGB output
      return { width, height, bytes };
    }
    pos += len;
  }
  return null;
}

/** Channels per PNG colour type. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x offset, y offset, x step, y step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

function pngEstimate(b: Uint8Array): DecodeEstimate | null {
  // Signature (8), then IHDR: length (4), type (4), width, height, depth, colour type, compression, filter, interlace.
  if (b.length < 29 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return null;
  const u32 = (o: number) => b[o]! * 0x1000000 + b[o + 1]! * 0x10000 + b[o + 2]! * 0x100 + b[o + 3]!;
  const width = u32(16);
  const height = u32(20);
  const depth = b[24]!;
  const channels = PNG_CHANNELS[b[25]!];
  const interlaced = b[28] === 1;
  if (!channels || !(depth >= 1 && depth <= 16) || width === 0 || height === 0) return null;
  const rowBytes = (w: number) => Math.ceil((w * channels * depth) / 8) + 1;
  let raw = 0;
  if (interlaced) {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((width - x0) / dx);
      const ph = Math.ceil((height - y0) / dy);
      if (pw > 0 && ph > 0) raw += ph * rowBytes(pw);
    }
  } else raw = height * rowBytes(width);
  const pixels = width * height;
  let bytes = b.length + 3 * raw + pixels * 4 * (depth === 16 ? 2 : 1);
  if (depth === 16) bytes += pixels * 4;
  if (interlaced) bytes += raw;
  return { width, height, bytes, rawBytes: raw, interlaced };
}

function gifEstimate(b: Uint8Array): DecodeEstimate | null {
  if (b.length < 10) return null;
  const width = b[6]! | (b[7]! << 8);
  const height = b[8]! | (b[9]! << 8);
  // The frame's own size is checked again by the decoder, once it has found the frame.
  return { width, height, bytes: b.length + width * height * 3 };
}
