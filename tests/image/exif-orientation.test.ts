import { describe, expect, test } from "bun:test";
import { exifOrientation } from "../../src/image/exif-orientation";
import { photo } from "../support/fixtures";

/** An APP1 payload: "Exif\0\0", then a little-endian TIFF header with one IFD0 entry, orientation 6. */
const LE = Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, 0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
/** A big-endian TIFF structure alone, orientation 8. */
const BE = Uint8Array.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0]);

/** `jpeg` with an APP1 (EXIF) segment holding `payload` inserted right after SOI. */
const withApp1 = (jpeg: Uint8Array, payload: Uint8Array) =>
  Uint8Array.from([...jpeg.subarray(0, 2), 0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload, ...jpeg.subarray(2)]);

describe("exifOrientation (exifr)", () => {
  test("EXIF orientation is read (little- and big-endian TIFF headers)", async () => {
    expect(await exifOrientation(LE)).toBe(6);
    expect(await exifOrientation(BE)).toBe(8);
    expect(await exifOrientation(Uint8Array.from([1, 2, 3]))).toBe(1);
  });

  test("the forms jpeg-js and JPEG files give: after the first NUL of Exif\\0\\0, and a whole JPEG", async () => {
    expect(await exifOrientation(LE.subarray(5))).toBe(6);
    const bus = photo("vehicle-bus.jpg");
    expect(await exifOrientation(withApp1(bus, LE))).toBe(6);
    expect(await exifOrientation(withApp1(bus, Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0, ...BE])))).toBe(8);
  });

  test("1 when absent, out of range or unreadable; the input is not modified", async () => {
    expect(await exifOrientation(photo("none-building.jpg"))).toBe(1); // no EXIF at all
    expect(await exifOrientation(photo("vehicle-car-rear.jpg"))).toBe(1); // EXIF without an orientation
    const nine = LE.slice();
    nine[24] = 9;
    expect(await exifOrientation(nine)).toBe(1);
    const broken = LE.slice();
    broken[10] = 0xf0; // IFD0 offset far past the end
    expect(await exifOrientation(broken)).toBe(1);
    expect(await exifOrientation(new Uint8Array())).toBe(1);
    expect(await exifOrientation(photo("none-cat.png"))).toBe(1);
    const b = withApp1(photo("vehicle-bus.jpg"), LE);
    const copy = b.slice();
    await exifOrientation(b);
    expect(b).toEqual(copy);
  });
});
