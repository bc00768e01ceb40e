/**
 * The GIF decoder for the offline tagger: the first frame onto a white RGB canvas, with its own LZW
 * decoder.
 *
 * Why hand-written and not omggif (issue #10 asked for the library; it was tried, 1.0.10, the
 * latest): omggif loops forever on a 40-byte GIF that intake accepts, whose LZW codes make a
 * code-table entry its own prefix (the chase `while (chase > clear_code)` never ends; see the
 * "LZW table that refers to itself" test in tests/image/gif-decode.test.ts). One such
 * upload would hang the tagger's queue for good. Besides: its constructor builds an object for
 * every frame of the file before anything can be checked (measured: a 10 MiB GIF of 700k 1×1
 * frames, which intake accepts, takes ~1 s and +114 MiB of heap, outside the estimate); it writes "Warning, gif stream ..." to stdout with
 * console.log on short or long LZW data (our logs are JSON lines); it throws on the Plain Text
 * extension (0x01), valid GIF89a; and a frame reaching past the logical screen wraps into the next
 * rows instead of being clipped. The decoder below bounds every loop (a chase stops at 4096
 * entries), clips frames, and counts what it allocates before allocating it.
 */
import { DecodeTooLarge, MAX_DECODE_BYTES } from "./decode-memory";
import type { Pixels } from "./decode";

/**
 * Decodes the first frame of a GIF onto a white RGB canvas (enough for tagging). Throws
 * `DecodeTooLarge` before allocating when the canvas, the frame's indices and its LZW data would
 * need more than `maxBytes`.
 */
export function decodeGifFirstFrame(b: Uint8Array, maxBytes = MAX_DECODE_BYTES): Pixels {
  let p = 6;
  const need = (n: number) => {
    if (p + n > b.length) throw new Error("GIF is truncated");
  };
  need(7);
  const width = b[p]! | (b[p + 1]! << 8);
  const height = b[p + 2]! | (b[p + 3]! << 8);
  const flags = b[p + 4]!;
  const bgIndex = b[p + 5]!;
  p += 7;
  if (width === 0 || height === 0) throw new Error("GIF has no pixels");
  let globalTable: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 * (1 << ((flags & 7) + 1));
    need(n);
    globalTable = b.subarray(p, p + n);
    p += n;
  }
  void bgIndex;
  let transparent = -1;
  for (;;) {
    need(1);
    const block = b[p++]!;
    if (block === 0x3b) throw new Error("GIF has no image");
    if (block === 0x21) {
      need(1);
      const label = b[p++]!;
      for (;;) {
        need(1);
        const len = b[p++]!;
        if (len === 0) break;
        need(len);
        if (label === 0xf9 && len >= 4 && b[p]! & 1) transparent = b[p + 3]!;
        p += len;
      }
      continue;
    }
    if (block !== 0x2c) throw new Error("GIF has an unknown block");
    need(9);
    const fx = b[p]! | (b[p + 1]! << 8);
    const fy = b[p + 2]! | (b[p + 3]! << 8);
    const fw = b[p + 4]! | (b[p + 5]! << 8);
    const fh = b[p + 6]! | (b[p + 7]! << 8);
    const fflags = b[p + 8]!;
    p += 9;
    let table = globalTable;
    if (fflags & 0x80) {
      const n = 3 * (1 << ((fflags & 7) + 1));
      need(n);
      table = b.subarray(p, p + n);
      p += n;
    }
    if (!table) throw new Error("GIF has no colour table");
    need(1);
    const minCode = b[p++]!;
    if (minCode < 2 || minCode > 11) throw new Error("GIF has a bad LZW code size");
    // Gather the sub-blocks.
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      need(1);
      const len = b[p++]!;
      if (len === 0) break;
      need(len);
      chunks.push(b.subarray(p, p + len));
      total += len;
      p += len;
    }
    const needed = total + fw * fh + width * height * 3;
    if (needed > maxBytes) throw new DecodeTooLarge(width, height, needed, maxBytes);
    const lzw = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      lzw.set(c, off);
      off += c.length;
    }
    const indices = lzwDecode(lzw, minCode, fw * fh);
    const rgb = new Uint8Array(width * height * 3).fill(255);
    const interlaced = (fflags & 0x40) !== 0;
    const rows = interlaced ? interlaceOrder(fh) : null;
    for (let i = 0; i < fw * fh && i < indices.length; i++) {
      const idx = indices[i]!;
      if (idx === transparent) continue;
      const row = rows ? rows[Math.floor(i / fw)]! : Math.floor(i / fw);
      const x = fx + (i % fw);
      const y = fy + row;
      if (x >= width || y >= height || idx * 3 + 2 >= table.length) continue;
      const d = (y * width + x) * 3;
      rgb[d] = table[idx * 3]!;
      rgb[d + 1] = table[idx * 3 + 1]!;
      rgb[d + 2] = table[idx * 3 + 2]!;
    }
    return { width, height, data: rgb, channels: 3 };
  }
}

function interlaceOrder(h: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) for (let y = start; y < h; y += step) rows.push(y);
  return rows;
}

function lzwDecode(data: Uint8Array, minCode: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCode;
  const eoi = clear + 1;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const stack = new Uint8Array(4097);
  let codeSize = minCode + 1;
  let next = eoi + 1;
  let old = -1;
  let first = 0;
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < data.length && o < pixels; ) {
    while (bits < codeSize && i < data.length) {
      acc |= data[i++]! << bits;
      bits += 8;
    }
    if (bits < codeSize) break;
    const code = acc & ((1 << codeSize) - 1);
    acc >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCode + 1;
      next = eoi + 1;
      old = -1;
      continue;
    }
    if (code === eoi) break;
    if (old === -1) {
      if (code >= clear) break;
      out[o++] = code;
      old = first = code;
      continue;
    }
    let c = code;
    let sp = 0;
    if (c >= next) {
      stack[sp++] = first;
      c = old;
    }
    while (c > clear) {
      if (sp >= 4096) return out;
      stack[sp++] = suffix[c]!;
      c = prefix[c]!;
    }
    first = c;
    stack[sp++] = c;
    if (next < 4096) {
      prefix[next] = old;
      suffix[next] = first;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    while (sp > 0 && o < pixels) out[o++] = stack[--sp]!;
    old = code;
  }
  return out;
}
