/**
 * The model input: decoded pixels (as stored, see `Pixels`) turned upright by their EXIF
 * orientation and letterboxed into the detector's square RGB input, in one pass (no rotated or
 * resized copy of a large image is ever made).
 */
import type { Pixels } from "./decode";

/**
 * Where the upright image's pixel (X, Y) is stored, per EXIF orientation: the stored column is
 * x0 + xX·X + xY·Y and the row y0 + yX·X + yY·Y (x0/y0 in units of w-1 / h-1).
 */
const ORIENTATIONS: Record<number, readonly [number, number, number, number, number, number]> = {
  1: [0, 1, 0, 0, 0, 1],
  2: [1, -1, 0, 0, 0, 1],
  3: [1, -1, 0, 1, 0, -1],
  4: [0, 1, 0, 1, 0, -1],
  5: [0, 0, 1, 0, 1, 0],
  6: [0, 0, 1, 1, -1, 0],
  7: [1, 0, -1, 1, -1, 0],
  8: [1, 0, -1, 0, 1, 0],
};

/** The upright view of stored pixels: its size, and the byte offset of pixel (X, Y) as base + X·stepX + Y·stepY. */
export function uprightView(img: Pixels): { width: number; height: number; base: number; stepX: number; stepY: number; channels: 3 | 4 } {
  const c = img.channels ?? 4;
  const [ox, xX, xY, oy, yX, yY] = ORIENTATIONS[img.orientation ?? 1] ?? ORIENTATIONS[1]!;
  const { width: w, height: h } = img;
  const swap = xY !== 0;
  return {
    width: swap ? h : w,
    height: swap ? w : h,
    base: c * (oy * (h - 1) * w + ox * (w - 1)),
    stepX: c * (yX * w + xX),
    stepY: c * (yY * w + xY),
    channels: c,
  };
}

/** An upright RGBA copy of decoded pixels (for tools and tests; the tagger never copies). */
export function upright(img: Pixels): { width: number; height: number; data: Uint8Array } {
  const v = uprightView(img);
  const dst = new Uint8Array(v.width * v.height * 4);
  for (let Y = 0; Y < v.height; Y++) {
    for (let X = 0; X < v.width; X++) {
      const s = v.base + X * v.stepX + Y * v.stepY;
      const d = (Y * v.width + X) * 4;
      dst[d] = img.data[s]!;
      dst[d + 1] = img.data[s + 1]!;
      dst[d + 2] = img.data[s + 2]!;
      dst[d + 3] = v.channels === 4 ? img.data[s + 3]! : 255;
    }
  }
  return { width: v.width, height: v.height, data: dst };
}

/**
 * Letterboxes the (upright) image into a `size`×`size` RGB float input (0-255):
 * scaled so its longer side is `size` (area-averaged when shrinking, bilinear when enlarging),
 * centred, black padding. Transparent pixels are composited over white.
 */
export function toModelInput(img: Pixels, size: number): Float32Array {
  const { width: w, height: h, base, stepX, stepY, channels } = uprightView(img);
  const data = img.data;
  const at = (x: number, y: number) => base + x * stepX + y * stepY;
  const scale = size / Math.max(w, h);
  const tw = Math.max(1, Math.min(size, Math.round(w * scale)));
  const th = Math.max(1, Math.min(size, Math.round(h * scale)));
  const ox = Math.floor((size - tw) / 2);
  const oy = Math.floor((size - th) / 2);
  const out = new Float32Array(size * size * 3); // zeros = black padding
  const sx = w / tw;
  const sy = h / th;
  const px =
    channels === 3
      ? (i: number, c: number) => data[i + c]!
      : (i: number, c: number) => {
          const a = data[i + 3]!;
          return a === 255 ? data[i + c]! : (data[i + c]! * a + 255 * (255 - a)) / 255;
        };
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      let r = 0, g = 0, b = 0;
      if (sx > 1 || sy > 1) {
        const x0 = Math.floor(tx * sx), x1 = Math.max(x0 + 1, Math.min(w, Math.floor((tx + 1) * sx)));
        const y0 = Math.floor(ty * sy), y1 = Math.max(y0 + 1, Math.min(h, Math.floor((ty + 1) * sy)));
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = at(x, y);
            r += px(i, 0); g += px(i, 1); b += px(i, 2);
          }
        }
        const n = (x1 - x0) * (y1 - y0);
        r /= n; g /= n; b /= n;
      } else {
        const fx = Math.min(w - 1, Math.max(0, (tx + 0.5) * sx - 0.5));
        const fy = Math.min(h - 1, Math.max(0, (ty + 0.5) * sy - 0.5));
        const x0 = Math.floor(fx), y0 = Math.floor(fy);
        const x1 = Math.min(w - 1, x0 + 1), y1 = Math.min(h - 1, y0 + 1);
        const ax = fx - x0, ay = fy - y0;
        const i00 = at(x0, y0), i01 = at(x1, y0), i10 = at(x0, y1), i11 = at(x1, y1);
        const lerp = (c: number) =>
          (px(i00, c) * (1 - ax) + px(i01, c) * ax) * (1 - ay) + (px(i10, c) * (1 - ax) + px(i11, c) * ax) * ay;
        r = lerp(0); g = lerp(1); b = lerp(2);
      }
      const o = ((oy + ty) * size + ox + tx) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return out;
}
