/**
 * WebP decoding (lossy, lossless, with alpha) through libwebp compiled to WebAssembly
 * (@jsquash/webp). The .wasm is imported `with { type: "file" }`, so it is embedded in the
 * compiled binary and compiled once, on the first WebP. Animated WebP is refused by libwebp's
 * still-image decoder (the caller fails the ad with a clear reason). The memory the decode needs
 * is checked from the header before (image/decode-memory.ts): libwebp's WebAssembly heap grows to
 * the largest image decoded and keeps that size.
 */
import decode, { init } from "@jsquash/webp/decode.js";
import wasmPath from "../../node_modules/@jsquash/webp/codec/dec/webp_dec.wasm" with { type: "file" };

let ready: Promise<void> | null = null;

/** Decodes a WebP still image to RGBA. */
export async function decodeWebp(b: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array }> {
  ready ??= Bun.file(wasmPath)
    .arrayBuffer()
    .then((bytes) => init(new WebAssembly.Module(bytes)));
  await ready;
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const img = await decode(copy);
  return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
}
