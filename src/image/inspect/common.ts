/**
 * What the per-format structural walks (image/inspect/*.ts) share: the result and rejection types,
 * the pixel cap, and bounds-free multi-byte reads. See image-inspect.ts for what the walk checks.
 */
import type { ImageFormat } from "../sniff";

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

export function fail(reason: ImageRejectReason, message: string): never {
  throw new ImageRejected(reason, message);
}

export function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) fail("too_many_pixels", `image has more than ${maxPixels} pixels`);
}

const bytesOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

// Multi-byte reads; callers check bounds first. Results are non-negative Numbers (no int32 wrap).
export const u16be = (b: Uint8Array, i: number): number => b[i]! * 0x100 + b[i + 1]!;
export const u32be = (b: Uint8Array, i: number): number => b[i]! * 0x1000000 + b[i + 1]! * 0x10000 + b[i + 2]! * 0x100 + b[i + 3]!;
export const u16le = (b: Uint8Array, i: number): number => b[i]! + b[i + 1]! * 0x100;
export const u24le = (b: Uint8Array, i: number): number => b[i]! + b[i + 1]! * 0x100 + b[i + 2]! * 0x10000;
export const u32le = (b: Uint8Array, i: number): number => b[i]! + b[i + 1]! * 0x100 + b[i + 2]! * 0x10000 + b[i + 3]! * 0x1000000;
export const fourcc = (s: string): number => u32be(new Uint8Array(bytesOf(s)), 0);
