import { describe, expect, test } from "bun:test";
import { decodeGifFirstFrame } from "../../src/image/gif-decode";
import { validateImage } from "../../src/domain/validation";

/** LSB-first packing of [code, bit width] pairs, as GIF's LZW stream stores them. */
function lzwBits(codes: Array<[number, number]>): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const [c, n] of codes) {
    acc |= c << bits;
    bits += n;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out.push(acc & 0xff);
  return out;
}

describe("decodeGifFirstFrame (hand-written; see the file's header for why not omggif)", () => {
  test("GIF: the first frame is decoded", () => {
    const gif = Uint8Array.from([
      0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x02, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0x2c, 0x00, 0x00,
      0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x0a, 0x00, 0x3b,
    ]);
    const img = decodeGifFirstFrame(gif);
    expect([img.width, img.height, img.channels]).toEqual([2, 1, 3]); // RGB: transparent pixels stay white
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 0, 0]); // colour 0: red
    expect(Array.from(img.data.subarray(3, 6))).toEqual([0, 0, 255]); // colour 1: blue
  });

  test("an LZW table that refers to itself (omggif 1.0.10 loops forever on it) decodes, and fast", () => {
    // 4×4, 2-bit codes (clear 4, end 5). Code 7 before it exists, then 1: entry 7 gets itself as
    // its prefix; code 7 again would make a decoder that follows prefixes without a bound spin.
    const lzw = lzwBits([[0, 3], [7, 3], [1, 3], [7, 4], [5, 4]]);
    const gif = Uint8Array.from([
      ...[0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 4, 0, 4, 0, 0x81, 0, 0],
      ...[0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255],
      ...[0x2c, 0, 0, 0, 0, 4, 0, 4, 0, 0],
      ...[2, lzw.length, ...lzw, 0, 0x3b],
    ]);
    expect(validateImage(gif, 1e7)).toMatchObject({ ext: "gif", width: 4, height: 4 }); // intake lets it in
    const t0 = performance.now();
    const img = decodeGifFirstFrame(gif);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect([img.width, img.height, img.data.length]).toEqual([4, 4, 48]);
  });
});
