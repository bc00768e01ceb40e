import { describe, expect, test } from "bun:test";
import { InputError } from "../../src/domain/errors";
import { isAdId, sniffImage, validateDescription, validateEmail, validateImage } from "../../src/domain/validation";
import { photo } from "../support/fixtures";

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => new TextEncoder().encode(s);

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("sniffImage", () => {
  test("recognises the real fixture photos by content", () => {
    expect(sniffImage(photo("vehicle-bus.jpg"))?.contentType).toBe("image/jpeg");
    expect(sniffImage(photo("vehicle-motorcycle.png"))?.contentType).toBe("image/png");
  });
  test("GIF and WebP headers", () => {
    expect(sniffImage(text("GIF89a\x01\x00\x01\x00"))).toEqual({ contentType: "image/gif", ext: "gif" });
    expect(sniffImage(text("GIF87a......"))?.ext).toBe("gif");
    expect(sniffImage(text("RIFF\x10\x00\x00\x00WEBPVP8 "))).toEqual({ contentType: "image/webp", ext: "webp" });
  });
  test("refuses scripts, HTML, PDFs, truncated headers and RIFF files that are not WebP", () => {
    for (const b of [text("<script>alert(1)</script>"), text("%PDF-1.7"), bytes(0xff, 0xd8), text("RIFF\x10\x00\x00\x00WAVEfmt "), bytes(0x89, 0x50, 0x4e, 0x47), new Uint8Array()])
      expect(sniffImage(b)).toBeNull();
  });
});

describe("validateImage", () => {
  test("415 for a script, whatever it is called", () => {
    const e = inputError(() => validateImage(text("#!/bin/sh\nrm -rf /"), 1000));
    expect([e.problem, e.code]).toEqual(["unsupported", "unsupported_image"]);
  });
  test("413 over the cap, accepted at the cap", () => {
    const jpeg = photo("vehicle-bus.jpg");
    expect(inputError(() => validateImage(jpeg, jpeg.length - 1)).problem).toBe("too_large");
    expect(validateImage(jpeg, jpeg.length)).toMatchObject({ ext: "jpg", width: 546, height: 413 });
  });
  test("422 for a structurally broken image, a polyglot or a pixel bomb; 415 for an unknown format", () => {
    const jpeg = photo("vehicle-bus.jpg");
    expect(inputError(() => validateImage(jpeg.subarray(0, 1000), 1e7)).code).toBe("invalid_image");
    expect(inputError(() => validateImage(new Uint8Array([...jpeg, ...text("<script>")]), 1e7)).code).toBe("invalid_image");
    expect(inputError(() => validateImage(jpeg, 1e7, 546 * 413 - 1)).code).toBe("invalid_image");
    expect(validateImage(jpeg, 1e7, 546 * 413).width).toBe(546);
  });
  test("422 for an empty file", () => {
    expect(inputError(() => validateImage(new Uint8Array(), 100)).problem).toBe("invalid");
  });
});

describe("validateEmail", () => {
  test.each(["a@b.co", "first.last+tag@sub.example.org", "  padded@example.com  "])("accepts %p", (e) => {
    expect(validateEmail(e)).toBe(e.trim());
  });
  test.each([
    ["header injection", "a@b.co\r\nBcc: victim@example.com"],
    ["a bare LF", "a@b.co\n"],
    ["two addresses", "a@b.co,c@d.co"],
    ["a display name", "Alice <a@b.co>"],
    ["no domain dot", "a@localhost"],
    ["no at sign", "example.com"],
    ["spaces inside", "a b@c.co"],
    ["too long", "x".repeat(250) + "@b.co"],
    ["local part over 64", "x".repeat(65) + "@b.co"],
    ["empty", "   "],
  ])("refuses %s", (_name, e) => {
    const err = inputError(() => validateEmail(e));
    expect([err.problem, err.code]).toEqual(["invalid", "invalid_email"]);
    if (e.trim()) expect(err.message).not.toContain(e.trim());
  });
  test("refuses a non-string", () => {
    expect(inputError(() => validateEmail(undefined)).code).toBe("invalid_email");
  });
});

describe("validateDescription", () => {
  test("trims", () => expect(validateDescription("  Red bike  ")).toBe("Red bike"));
  test("1 and 5000 characters are fine; 0 and 5001 are not", () => {
    expect(validateDescription("x")).toBe("x");
    expect(validateDescription("é".repeat(5000)).length).toBe(5000);
    expect(inputError(() => validateDescription("   ")).problem).toBe("invalid");
    expect(inputError(() => validateDescription("x".repeat(5001))).code).toBe("invalid_description");
  });
  test("counts characters, not UTF-16 units", () => {
    expect(validateDescription("🚗".repeat(5000))).toHaveLength(10000);
    expect(inputError(() => validateDescription("🚗".repeat(5001))).code).toBe("invalid_description");
  });
  test("a very long description is refused by its length alone, before any per-character work", () => {
    // Counting code points walks the whole string (String.prototype[Symbol.iterator]); a text
    // longer than 2 × the limit in UTF-16 units cannot fit, so it must be refused without that walk.
    const proto = String.prototype as unknown as Record<symbol, unknown>;
    const iterator = proto[Symbol.iterator];
    let walked = 0;
    proto[Symbol.iterator] = function (this: string) {
      walked++;
      return (iterator as () => Iterator<string>).call(this);
    };
    try {
      const e = inputError(() => validateDescription("x".repeat(10_001)));
      expect(e.code).toBe("invalid_description");
      expect(walked).toBe(0);
      expect(inputError(() => validateDescription("y".repeat(2_000_000))).message).toBe("description must be at most 5000 characters");
      expect(walked).toBe(0);
    } finally {
      proto[Symbol.iterator] = iterator;
    }
    // At or under twice the limit, the exact count still decides.
    expect(inputError(() => validateDescription("x".repeat(10_000))).code).toBe("invalid_description");
    expect(validateDescription("🚗".repeat(5000))).toHaveLength(10_000);
  });
});

describe("isAdId", () => {
  test("only UUIDs", () => {
    expect(isAdId(crypto.randomUUID())).toBe(true);
    expect(isAdId(Bun.randomUUIDv7())).toBe(true);
    for (const bad of ["1", "../etc/passwd", "' or 1=1 --", ""]) expect(isAdId(bad)).toBe(false);
  });
});
