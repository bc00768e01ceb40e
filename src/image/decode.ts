/**
 * Image decoding for the offline tagger: JPEG (jpeg-js), PNG (pngjs), GIF (first frame,
 * image/gif-decode.ts), all pure JS; WebP is not decoded. Every decode is first checked against a
 * memory estimate taken from the header (image/decode-memory.ts) and refused before anything big
 * is allocated. The pixels come as stored; a JPEG's EXIF orientation (image/exif-orientation.ts)
 * comes beside them and is applied when sampling the model input (image/model-input.ts).
 */
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { inflateSync } from "node:zlib";
import { DecodeTooLarge, MAX_DECODE_BYTES, decodeMemoryEstimate } from "./decode-memory";
import { exifOrientation } from "./exif-orientation";
import { decodeGifFirstFrame } from "./gif-decode";
import { sniffImageFormat } from "./sniff";

/**
 * Decoded pixels, 8 bits per sample, as stored (not yet turned upright): RGB (`channels` 3) or
 * RGBA (4, the default). `orientation` is the EXIF orientation (1-8, default 1), applied while
 * sampling the model input, so no rotated copy of a large image is ever made.
 */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
  channels?: 3 | 4;
  orientation?: number;
}

/**
 * Decodes JPEG, PNG or GIF (first frame); `null` for formats not decoded offline (WebP). The
 * pixels come as stored, with the EXIF orientation beside them (see `Pixels`). Rejects with
 * `DecodeTooLarge`, before decoding anything, when the decode would need more than `maxBytes`.
 */
export async function decodeImage(b: Uint8Array, maxBytes = MAX_DECODE_BYTES): Promise<Pixels | null> {
  const estimate = decodeMemoryEstimate(b);
  if (estimate && estimate.bytes > maxBytes) throw new DecodeTooLarge(estimate.width, estimate.height, estimate.bytes, maxBytes);
  const format = sniffImageFormat(b);
  if (format === "jpeg") {
    const orientation = await exifOrientation(b); // before the decode: nothing big is held while it runs
    let img: { width: number; height: number; data: Uint8Array };
    try {
      // RGB, not RGBA: a quarter less memory. jpeg-js's own accounting is the backstop for
      // anything the estimate missed.
      img = jpeg.decode(b, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 100, maxMemoryUsageInMB: Math.max(1, Math.floor(maxBytes / 1048576)) });
    } catch (err) {
      const m = /max(MemoryUsageInMB|ResolutionInMP) limit exceeded/.exec((err as Error).message ?? "");
      if (m) throw new DecodeTooLarge(estimate?.width ?? 0, estimate?.height ?? 0, estimate?.bytes ?? maxBytes + 1, maxBytes);
      throw err;
    }
    return { width: img.width, height: img.height, data: img.data, channels: 3, orientation };
  }
  if (format === "png") {
    if (estimate?.interlaced) {
      // pngjs inflates interlaced images with no output limit: a small stream of zeros could
      // inflate to gigabytes. Check the inflated size first, with a limit (the memory is counted
      // in the estimate).
      inflateSync(pngImageData(b), { maxOutputLength: estimate.rawBytes });
    }
    const png = PNG.sync.read(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return { width: png.width, height: png.height, data: png.data, channels: 4 };
  }
  if (format === "gif") return decodeGifFirstFrame(b, maxBytes);
  if (format === "webp") return null; // no pure-JS WebP decoder here
  throw new Error("not a JPEG, PNG, GIF or WebP image");
}

/** The concatenated IDAT data of a PNG (the zlib stream). */
function pngImageData(b: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (o: number) => b[o]! * 0x1000000 + b[o + 1]! * 0x10000 + b[o + 2]! * 0x100 + b[o + 3]!;
  for (let pos = 8; pos + 8 <= b.length; ) {
    const len = u32(pos);
    const type = String.fromCharCode(b[pos + 4]!, b[pos + 5]!, b[pos + 6]!, b[pos + 7]!);
    if (type === "IDAT") parts.push(b.subarray(pos + 8, Math.min(b.length, pos + 8 + len)));
    if (type === "IEND") break;
    pos += 12 + len;
  }
  return Buffer.concat(parts);
}
