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
 *
 * This file dispatches on the sniffed format (image/sniff.ts); the walks themselves live in
 * image/inspect/, one file per format.
 */
import { sniffImageFormat } from "../sniff";
import { fail, type ImageInfo } from "./common";
import { inspectGif } from "./gif";
import { inspectJpeg } from "./jpeg";
import { inspectPng } from "./png";
import { inspectWebp } from "./webp";

export type { ImageFormat } from "../sniff";
export { ImageRejected, type ImageInfo, type ImageRejectReason } from "./common";

/** Walks the container structure; throws ImageRejected. maxPixels caps width*height. */
export function inspectImage(bytes: Uint8Array, maxPixels: number): ImageInfo {
  if (!(maxPixels > 0)) throw new RangeError("maxPixels must be a positive number");
  // The SOI marker alone makes a JPEG here, so a file cut or broken right after it is reported as
  // a broken JPEG. (Intake has already sniffed the stricter FF D8 FF before calling this.)
  switch (sniffImageFormat(bytes, { jpegSoiOnly: true })) {
    case "jpeg":
      return inspectJpeg(bytes, maxPixels);
    case "png":
      return inspectPng(bytes, maxPixels);
    case "gif":
      return inspectGif(bytes, maxPixels);
    case "webp":
      return inspectWebp(bytes, maxPixels);
    default:
      return fail("unsupported", "not a JPEG, PNG, GIF or WebP image");
  }
}
