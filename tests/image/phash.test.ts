import { describe, expect, test } from "bun:test";
import * as jpeg from "jpeg-js";
import { decodeImage } from "../../src/image/decode";
import { fromSigned64, hammingDistance, perceptualHash, photoHash, toSigned64 } from "../../src/image/phash";
import { thumbnailJpeg } from "../../src/image/thumbnail";
import { photo } from "../support/fixtures";

const FIXTURES = ["vehicle-bus.jpg", "vehicle-car-rear.jpg", "vehicle-boats-harbour.jpg", "vehicle-motorcycle.png", "none-building.jpg", "none-cat.png", "none-coffee.png", "none-fruits.jpg"];

describe("perceptual hash", () => {
  test("each fixture photo hashes far from every other one", async () => {
    const hashes = await Promise.all(FIXTURES.map(async (f) => (await photoHash(photo(f)))!));
    for (let i = 0; i < hashes.length; i++) for (let j = i + 1; j < hashes.length; j++) expect(hammingDistance(hashes[i]!, hashes[j]!)).toBeGreaterThan(12);
  });

  test("a re-encoded, half-size copy hashes within a few bits of its original", async () => {
    const original = (await decodeImage(photo("vehicle-bus.jpg")))!;
    const smaller = thumbnailJpeg(original, 300, 40); // another size and a low quality
    const d = hammingDistance(perceptualHash(original), (await photoHash(smaller))!);
    expect(d).toBeLessThanOrEqual(6);
  });

  test("EXIF orientation is applied: a rotated view is not the same picture, the upright one is", () => {
    const w = 64, h = 32;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x * 4, y * 8, 128, 255], (y * w + x) * 4);
    const stored = { width: w, height: h, data };
    expect(perceptualHash({ ...stored, orientation: 1 })).toBe(perceptualHash(stored));
    expect(hammingDistance(perceptualHash({ ...stored, orientation: 6 }), perceptualHash(stored))).toBeGreaterThan(12);
  });

  test("hashes survive the trip through a signed bigint column", () => {
    for (const h of [0n, 1n, (1n << 63n) + 5n, (1n << 64n) - 1n]) expect(fromSigned64(toSigned64(h))).toBe(h);
    expect(hammingDistance(0n, (1n << 64n) - 1n)).toBe(64);
  });

  test("an undecodable upload has no hash (and does not throw)", async () => {
    expect(await photoHash(new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]))).toBeNull();
  });
});

describe("thumbnail", () => {
  test("a JPEG at most 320 px on its long side, keeping the aspect ratio", async () => {
    const original = (await decodeImage(photo("vehicle-car-rear.jpg")))!;
    const thumb = jpeg.decode(thumbnailJpeg(original));
    expect(Math.max(thumb.width, thumb.height)).toBe(320);
    expect(Math.abs(thumb.width / thumb.height - original.width / original.height)).toBeLessThan(0.02);
  });
});
