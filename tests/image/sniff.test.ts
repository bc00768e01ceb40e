import { describe, expect, test } from "bun:test";
import { sniffImageFormat } from "../../src/image/sniff";
import { photo } from "../support/fixtures";

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => new TextEncoder().encode(s);

describe("sniffImageFormat (the one magic-byte check: intake, inspection and decoding use it)", () => {
  test("the fixture photos by content", () => {
    expect(sniffImageFormat(photo("vehicle-bus.jpg"))).toBe("jpeg");
    expect(sniffImageFormat(photo("vehicle-motorcycle.png"))).toBe("png");
  });

  test("full signatures: PNG's 8 bytes, GIF87a/GIF89a, RIFF....WEBP", () => {
    expect(sniffImageFormat(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe("png");
    expect(sniffImageFormat(text("GIF87a"))).toBe("gif");
    expect(sniffImageFormat(text("GIF89a"))).toBe("gif");
    expect(sniffImageFormat(text("RIFF\x10\x00\x00\x00WEBPVP8 "))).toBe("webp");
    for (const b of [bytes(0x89, 0x50, 0x4e, 0x47), bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x00), text("GIF8"), text("GIF90a"), text("RIFF\x10\x00\x00\x00WAVEfmt "), text("RIFF\x10\x00\x00\x00WEB")])
      expect(sniffImageFormat(b)).toBeNull();
  });

  test("JPEG: FF D8 FF by default; the SOI marker alone only with jpegSoiOnly", () => {
    expect(sniffImageFormat(bytes(0xff, 0xd8, 0xff))).toBe("jpeg");
    expect(sniffImageFormat(bytes(0xff, 0xd8))).toBeNull();
    expect(sniffImageFormat(bytes(0xff, 0xd8, 0x00))).toBeNull();
    expect(sniffImageFormat(bytes(0xff, 0xd8), { jpegSoiOnly: true })).toBe("jpeg");
    expect(sniffImageFormat(bytes(0xff, 0xd8, 0x00), { jpegSoiOnly: true })).toBe("jpeg");
    expect(sniffImageFormat(bytes(0xff), { jpegSoiOnly: true })).toBeNull();
  });

  test("nothing else, and no reads past the end", () => {
    for (const b of [new Uint8Array(), bytes(0xff), text("<script>alert(1)</script>"), text("%PDF-1.7"), text("BM\0\0")]) {
      expect(sniffImageFormat(b)).toBeNull();
      expect(sniffImageFormat(b, { jpegSoiOnly: true })).toBeNull();
    }
    // A view into a larger buffer: only its own bytes count.
    const big = text("xxGIF89a");
    expect(sniffImageFormat(big.subarray(2))).toBe("gif");
    expect(sniffImageFormat(big.subarray(2, 6))).toBeNull();
  });
});
