/**
 * A small JPEG of a photo for the public list: upright, at most 320 px on its long side
 * (area-averaged), quality 75, transparency over white. Made once per accepted ad; the original
 * is kept as uploaded.
 */
import * as jpeg from "jpeg-js";
import type { Pixels } from "./decode";
import { uprightView } from "./model-input";

export const THUMB_MAX = 320;

export function thumbnailJpeg(img: Pixels, max = THUMB_MAX, quality = 75): Uint8Array {
  const { width: w, height: h, base, stepX, stepY, channels } = uprightView(img);
  const scale = Math.min(1, max / Math.max(w, h));
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));
  const out = new Uint8Array(tw * th * 4);
  const data = img.data;
  for (let ty = 0; ty < th; ty++) {
    const y0 = Math.floor((ty * h) / th), y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / th));
    for (let tx = 0; tx < tw; tx++) {
      const x0 = Math.floor((tx * w) / tw), x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / tw));
      let r = 0, g = 0, b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = base + x * stepX + y * stepY;
          const a = channels === 4 ? data[i + 3]! / 255 : 1;
          r += data[i]! * a + 255 * (1 - a);
          g += data[i + 1]! * a + 255 * (1 - a);
          b += data[i + 2]! * a + 255 * (1 - a);
        }
      }
      const n = (x1 - x0) * (y1 - y0);
      const o = (ty * tw + tx) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ width: tw, height: th, data: Buffer.from(out.buffer) }, quality).data);
}
