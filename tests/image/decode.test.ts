import { describe, expect, test } from "bun:test";
import { decodeImage } from "../../src/image/decode";
import { upright } from "../../src/image/model-input";
import { photo } from "../support/fixtures";

describe("decodeImage", () => {
  test("a JPEG with EXIF orientation 6 is turned upright when decoded", async () => {
    const jpeg = await import("jpeg-js");
    // 4×2: left half red, right half blue; stored as-is, displayed rotated 90° clockwise.
    const px = new Uint8Array(4 * 2 * 4);
    for (let i = 0; i < 8; i++) px.set(i % 4 < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
    const plain = new Uint8Array(jpeg.encode({ width: 4, height: 2, data: px }, 95).data);
    const tiff = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
    const app1 = [0xff, 0xe1, 0, tiff.length + 2, ...tiff];
    const stored = (await decodeImage(Uint8Array.from([...plain.subarray(0, 2), ...app1, ...plain.subarray(2)])))!;
    expect([stored.width, stored.height, stored.orientation]).toEqual([4, 2, 6]); // kept as stored: no rotated copy
    const img = upright(stored);
    expect([img.width, img.height]).toEqual([2, 4]);
    expect(img.data[0]! > 200 && img.data[2]! < 60).toBe(true); // top row: red (was the left half)
    expect(img.data[(3 * 2) * 4 + 2]! > 200).toBe(true); // bottom row: blue
  });

  test("the fixture formats: JPEG as RGB, PNG as RGBA, orientation 1 without EXIF", async () => {
    expect(await decodeImage(photo("vehicle-bus.jpg"))).toMatchObject({ width: 546, height: 413, channels: 3, orientation: 1 });
    const png = (await decodeImage(photo("none-cat.png")))!;
    expect([png.width, png.height, png.channels, png.data.length]).toEqual([451, 300, 4, 451 * 300 * 4]);
  });

  test("WebP: null (not decoded offline); anything else rejects", async () => {
    const webp = Uint8Array.from([...new TextEncoder().encode("RIFF"), 30, 0, 0, 0, ...new TextEncoder().encode("WEBPVP8 "), ...new Array(18).fill(0)]);
    expect(await decodeImage(webp)).toBeNull();
    await expect(decodeImage(new TextEncoder().encode("hello, not an image"))).rejects.toThrow("not a JPEG, PNG, GIF or WebP image");
    await expect(decodeImage(photo("vehicle-bus.jpg").slice(0, 300))).rejects.toThrow();
  });
});
