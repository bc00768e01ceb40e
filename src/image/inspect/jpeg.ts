/** JPEG (ITU-T T.81 / JFIF) structural walk; see image-inspect.ts. */
import { checkPixels, fail, u16be, type ImageInfo } from "./common";

/** Up to this many bytes of 0x00 / whitespace may follow EOI (some cameras and tools pad files). */
const JPEG_MAX_PADDING = 1024;

function isSof(m: number): boolean {
  // C0–CF are frame headers except C4 (DHT), C8 (JPG, reserved) and CC (DAC).
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

export function inspectJpeg(b: Uint8Array, maxPixels: number): ImageInfo {
  const end = jpegEnd(b, 0, maxPixels);
  let pos = end.pos;
  // Multi-picture JPEGs (Android "Ultra HDR" gain maps, MPF stereo pairs) carry further complete
  // JPEGs after the primary one's EOI. Each must itself be a valid JPEG; anything else after an
  // EOI (HTML, a script, a ZIP: a polyglot) is refused.
  while (pos + 3 <= b.length && b[pos] === 0xff && b[pos + 1] === 0xd8 && b[pos + 2] === 0xff) pos = jpegEnd(b, pos, maxPixels).pos;
  const n = b.length;
  const extra = n - pos;
  if (extra > JPEG_MAX_PADDING) fail("trailing_data", "JPEG has data after its end-of-image marker");
  for (let i = pos; i < n; i++) {
    const c = b[i]!;
    if (c !== 0x00 && c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)
      fail("trailing_data", "JPEG has data after its end-of-image marker");
  }
  return { format: "jpeg", width: end.width, height: end.height };
}

/** Walks one JPEG starting at `start` (its SOI); returns its size and the offset just past its EOI. */
function jpegEnd(b: Uint8Array, start: number, maxPixels: number): { pos: number; width: number; height: number } {
  const n = b.length;
  let pos = start + 2; // after SOI
  let width = 0;
  let height = 0;
  let sawSof = false;
  let sawSos = false;

  for (;;) {
    if (pos >= n) fail("truncated", "JPEG ends before its end-of-image marker");
    if (b[pos] !== 0xff) fail("malformed", "JPEG has data outside a segment");
    while (pos < n && b[pos] === 0xff) pos++; // the marker's 0xFF plus any fill bytes
    if (pos >= n) fail("truncated", "JPEG ends before its end-of-image marker");
    const marker = b[pos++]!;

    if (marker === 0xd9) {
      // EOI
      if (!sawSos) fail("malformed", "JPEG has no image data");
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // TEM, RSTn: no payload
    if (marker === 0xd8) fail("malformed", "JPEG has a second start-of-image marker");
    if (marker < 0xc0) fail("malformed", "JPEG has an invalid marker"); // 0x00 and reserved 02–BF

    // Every other marker starts a length-prefixed segment (the length counts itself).
    if (pos + 2 > n) fail("truncated", "JPEG ends inside a segment");
    const len = u16be(b, pos);
    if (len < 2) fail("malformed", "JPEG segment has an invalid length");
    const end = pos + len;
    if (end > n) fail("truncated", "JPEG ends inside a segment");

    if (isSof(marker)) {
      if (sawSof) fail("malformed", "JPEG has more than one frame header");
      if (len < 8) fail("malformed", "JPEG frame header is too short");
      const precision = b[pos + 2]!;
      height = u16be(b, pos + 3);
      width = u16be(b, pos + 5);
      const components = b[pos + 7]!;
      if (components === 0 || len !== 8 + 3 * components) fail("malformed", "JPEG frame header is inconsistent");
      if (precision < 2 || precision > 16) fail("malformed", "JPEG frame header has an invalid precision");
      // Height 0 would defer the height to a DNL marker; no browser supports that.
      if (width === 0 || height === 0) fail("malformed", "JPEG frame has a zero dimension");
      checkPixels(width, height, maxPixels);
      sawSof = true;
      pos = end;
    } else if (marker === 0xda) {
      // SOS: header, then entropy-coded data up to the next real marker.
      if (!sawSof) fail("malformed", "JPEG scan comes before the frame header");
      if (len < 6) fail("malformed", "JPEG scan header is too short");
      const components = b[pos + 2]!;
      if (components < 1 || components > 4 || len !== 6 + 2 * components) fail("malformed", "JPEG scan header is inconsistent");
      sawSos = true;
      pos = skipEntropyData(b, end);
    } else {
      pos = end; // APPn (EXIF, thumbnails, ICC…), COM, DQT, DHT, DRI, DAC, DNL, JPGn…: skipped whole
    }
  }

  return { pos, width, height }; // pos is just past EOI
}

/**
 * Skips entropy-coded data starting at `pos`; returns the offset of the 0xFF that begins the next
 * marker. Inside the data, 0xFF is followed by 0x00 (a stuffed data byte) or an RSTn marker;
 * extra 0xFF bytes are fill.
 */
function skipEntropyData(b: Uint8Array, pos: number): number {
  const n = b.length;
  for (;;) {
    const ff = b.indexOf(0xff, pos); // native scan; the only per-byte work for most of the file
    if (ff < 0) fail("truncated", "JPEG ends inside image data");
    let i = ff + 1;
    while (i < n && b[i] === 0xff) i++;
    if (i >= n) fail("truncated", "JPEG ends inside image data");
    const next = b[i]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      pos = i + 1;
      continue;
    }
    return ff;
  }
}
