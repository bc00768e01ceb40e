import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { decodeImage } from "../../src/image/decode";
import { toModelInput, upright } from "../../src/image/model-input";
import { photo } from "../support/fixtures";

const SIZE = 512; // the detector's input
const sha256 = (f: Float32Array) => createHash("sha256").update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength)).digest("hex");

/**
 * SHA-256 of the 512×512 model input of each fixture photo, as computed before decoding moved out
 * of offline-tagger.ts (jpeg-js, pngjs, the EXIF reader of the time). Any change to decoding or
 * sampling that alters one bit of what the detector sees fails here.
 */
const FIXTURE_INPUTS: Record<string, string> = {
  "none-building.jpg": "6b8a153a2b5883d6c860b66fbacef3c81b5a4aac50160bcf5bf68f5b3d68c7b1",
  "none-cat.png": "1828669a340d8662fa4d5fc35ca705f7c163ad3ae56687de263f049ca719a42c",
  "none-coffee.png": "c16e3138eff35f04115ba124a660ab8e7ec4cd8b7b3884a23000dcb5b2d11ace",
  "none-fruits.jpg": "b57bb325d1260122af133f9be496bdbabe45adbb9ea0aa7892bda236cdc4e07d",
  "vehicle-boats-harbour.jpg": "9b460d99df289856b595a8428468a73205d0165d08a157fc69cc4bd080318417",
  "vehicle-bus.jpg": "29bd1da289c5d798e4cbc1a2f9165f4580894cf568437db8d0e4020509bdf56a",
  "vehicle-car-rear.jpg": "c00426e1b95681656aa5bb2e86da55d2e3f8363b331925a1accbd1a9f5cdd2e1",
  "vehicle-motorcycle.png": "459af018fad4f816a447726af0207dd1df1dc9ada59d93c6950771e2a172f57b",
};

/** Same, for none-fruits.jpg with an EXIF APP1 (orientation 1-8, little-endian) after its APP0. */
const ORIENTED_INPUTS = [
  "b57bb325d1260122af133f9be496bdbabe45adbb9ea0aa7892bda236cdc4e07d",
  "ebba25732ee8e263068b0a93d301d3e96df92e7c5cb7b40719fb41011dab6e9f",
  "0ecd592e68436ae360112c9c394999709e66dcdd8bb4e1c703fc1e97e35cc498",
  "8c4260836e80d35adc5d21eae058e2ff98949b7ebe989e62e893dd16525c66aa",
  "afa80686f3568901ad611e6473d0aee7040d79663c3705b524bc0fa2cac98f73",
  "a9a281157415d1f0874dedd51cb17588c53323e4506e05c49fce412d2589171f",
  "04f2d87201959b412243a2bd1c4239b012cf8cc9832e631635a15ea0c529c421",
  "f8b0ea8a2bba020f32ef27289f1e423994fdf4216a03513111695467c9919528",
];

/** An APP1 holding a little-endian TIFF IFD0 with orientation `o` (second entry) and one other tag. */
function exifApp1(o: number): number[] {
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const entry = (tag: number, type: number, v: number) => [...u16(tag), ...u16(type), ...u32(1), ...(type === 3 ? [...u16(v), 0, 0] : u32(v))];
  const entries = o % 2 === 0 ? [entry(0x0112, 3, o), entry(0x011a, 4, 72)] : [entry(0x010f, 4, 0), entry(0x0112, 3, o)];
  const tiff = [0x49, 0x49, ...u16(42), ...u32(8), ...u16(entries.length), ...entries.flat(), ...u32(0)];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  return [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
}

describe("toModelInput", () => {
  for (const [name, hash] of Object.entries(FIXTURE_INPUTS))
    test(`${name}: the model input is bit-identical to before the split`, async () => {
      expect(sha256(toModelInput((await decodeImage(photo(name)))!, SIZE))).toBe(hash);
    }, 30_000);

  test("EXIF orientations 1-8 (none-fruits.jpg): bit-identical too", async () => {
    const b = photo("none-fruits.jpg");
    const app0End = 4 + ((b[4]! << 8) | b[5]!);
    for (let o = 1; o <= 8; o++) {
      const oriented = Uint8Array.from([...b.subarray(0, app0End), ...exifApp1(o), ...b.subarray(app0End)]);
      const img = (await decodeImage(oriented))!;
      expect(img.orientation).toBe(o);
      expect(sha256(toModelInput(img, SIZE))).toBe(ORIENTED_INPUTS[o - 1]!);
    }
  }, 30_000);

  test("letterbox: the longer side fills the input, centred, black padding; transparency over white", () => {
    // 4×2 RGBA: opaque red on the left, fully transparent on the right.
    const data = new Uint8Array(4 * 2 * 4);
    for (let i = 0; i < 8; i++) data.set(i % 4 < 2 ? [255, 0, 0, 255] : [0, 0, 0, 0], i * 4);
    const input = toModelInput({ width: 4, height: 2, data }, 8);
    const at = (x: number, y: number) => Array.from(input.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(at(0, 0)).toEqual([0, 0, 0]); // padding above
    expect(at(0, 2)).toEqual([255, 0, 0]); // red, top-left of the picture
    expect(at(7, 2)).toEqual([255, 255, 255]); // transparent → white
    expect(at(7, 7)).toEqual([0, 0, 0]); // padding below
  });

  test("upright: orientation 3 turns the image half a turn", () => {
    const data = Uint8Array.from([1, 1, 1, 2, 2, 2]); // 2×1 RGB
    expect(Array.from(upright({ width: 2, height: 1, data, channels: 3, orientation: 3 }).data)).toEqual([2, 2, 2, 255, 1, 1, 1, 255]);
  });
});
