import { describe, expect, test } from "bun:test";
import { decodeImage } from "../../src/image/decode";
import { DecodeTooLarge, decodeMemoryEstimate, MAX_DECODE_BYTES } from "../../src/image/decode-memory";
import { decodeGifFirstFrame } from "../../src/image/gif-decode";
import { validateImage } from "../../src/domain/validation";

// Images intake accepts (≤ 10 MiB, ≤ 50 MP) but whose decode would take far more memory than the
// cap are refused from their header, before any big allocation. The refusals through the tagger
// (with RSS measured) are in tests/tagger/offline.test.ts.

const INTAKE_BYTES = 10 * 1024 * 1024;
const INTAKE_PIXELS = 50_000_000;
const MiB = 1024 * 1024;

describe("decoder memory is bounded", () => {
  test("the cap is 320 MiB", () => {
    expect(MAX_DECODE_BYTES).toBe(320 * 1024 * 1024);
  });

  test("GIF: a canvas over the cap is refused before the canvas is allocated", async () => {
    // 7071×7071 logical screen, one 1×1 frame.
    const gif = Uint8Array.from([
      0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 7071 & 0xff, 7071 >> 8, 7071 & 0xff, 7071 >> 8, 0x80, 0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
      0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
    ]);
    validateImage(gif, INTAKE_BYTES, INTAKE_PIXELS);
    const err = (() => {
      try {
        decodeGifFirstFrame(gif, 64 * MiB);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DecodeTooLarge);
    await expect(decodeImage(gif, 64 * MiB)).rejects.toThrow(DecodeTooLarge);
    // Under the default cap it decodes (150 MB of canvas).
    expect(decodeMemoryEstimate(gif)!.bytes).toBeLessThan(MAX_DECODE_BYTES);
  });

  test("ordinary photo sizes fit under the cap", () => {
    const jpegHeader = (w: number, h: number, sampling: number[]) =>
      Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 8 + 3 * sampling.length, 8, h >> 8, h & 0xff, w >> 8, w & 0xff, sampling.length, ...sampling.flatMap((s, i) => [i + 1, s, 0])]);
    const est = (b: Uint8Array) => decodeMemoryEstimate(b)!.bytes;
    expect(est(jpegHeader(4032, 3024, [0x22, 0x11, 0x11]))).toBeLessThan(MAX_DECODE_BYTES); // 12 MP phone photo, 4:2:0
    expect(est(jpegHeader(4000, 3000, [0x11, 0x11, 0x11]))).toBeLessThan(MAX_DECODE_BYTES); // 12 MP, 4:4:4
    expect(est(jpegHeader(5184, 3456, [0x22, 0x11, 0x11]))).toBeLessThan(MAX_DECODE_BYTES); // 18 MP camera, 4:2:0
    expect(est(jpegHeader(5712, 4284, [0x22, 0x11, 0x11]))).toBeLessThan(MAX_DECODE_BYTES); // 24 MP (recent phones), 4:2:0
    expect(est(jpegHeader(8064, 6048, [0x22, 0x11, 0x11]))).toBeGreaterThan(MAX_DECODE_BYTES); // 48 MP: refused, see MAX_DECODE_BYTES
    expect(est(jpegHeader(7071, 7071, [0x22, 0x11, 0x11]))).toBeGreaterThan(MAX_DECODE_BYTES); // 50 MP
    const pngHeader = (w: number, h: number, depth: number, colourType: number) => {
      const b = new Uint8Array(33);
      b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
      new DataView(b.buffer).setUint32(16, w);
      new DataView(b.buffer).setUint32(20, h);
      b.set([depth, colourType, 0, 0, 0], 24);
      return b;
    };
    expect(est(pngHeader(4000, 3000, 8, 2))).toBeLessThan(MAX_DECODE_BYTES); // 12 MP RGB screenshot/photo
    expect(est(pngHeader(4000, 3000, 8, 6))).toBeLessThan(MAX_DECODE_BYTES); // 12 MP RGBA
    expect(est(pngHeader(4000, 3000, 16, 6))).toBeGreaterThan(MAX_DECODE_BYTES); // 12 MP RGBA 16-bit: ~570 MB with pngjs
  });

  test("no estimate for WebP or for what is no image", () => {
    expect(decodeMemoryEstimate(new TextEncoder().encode("RIFF\x10\x00\x00\x00WEBPVP8 "))).toBeNull();
    expect(decodeMemoryEstimate(new TextEncoder().encode("hello"))).toBeNull();
  });
});
