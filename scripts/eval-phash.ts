/**
 * How well the perceptual hash (src/image/phash.ts) catches re-posted photos, and how often it
 * mistakes different photos for copies.
 *
 *   bash scripts/eval/fetch-photos.sh   # once: photos from Debian packages into .cache/eval-photos
 *   bun scripts/eval-phash.ts [threshold]
 *
 * Each photo (the fetched ones, else the fixtures) is first brought to at most 1024 px on its long
 * side and JPEG-encoded, as a poster's upload would be; then copies are made the way re-posters
 * make them: re-encoded at low quality, resized down, cropped a little, brighter, darker, and a
 * screenshot-like PNG round trip at another size. For each Hamming-distance threshold it prints
 * the match rate (copies within the threshold of their original) and the false-match rate
 * (pairs of different photos, originals and copies alike, within the threshold).
 */
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { decodeImage } from "../src/image/decode";
import { upright } from "../src/image/model-input";
import { hammingDistance, perceptualHash } from "../src/image/phash";

type Rgba = { width: number; height: number; data: Uint8Array };

const ROOT = join(import.meta.dir, "..");
// The fetched set when present (the fixtures are five of its photos again, which would count as
// "different photos" matching); else the fixtures alone.
const fetched = join(ROOT, ".cache/eval-photos");
const dir = existsSync(fetched) ? fetched : join(ROOT, "tests/fixtures/images");
const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).map((f) => join(dir, f));

/** Area-average resize. */
function resize(img: Rgba, w: number, h: number): Rgba {
  const out = new Uint8Array(w * h * 4);
  const sx = img.width / w, sy = img.height / h;
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor(y * sy), y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor(x * sx), x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      const acc = [0, 0, 0, 0];
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) {
        const i = (yy * img.width + xx) * 4;
        for (let c = 0; c < 4; c++) acc[c]! += img.data[i + c]!;
      }
      const n = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < 4; c++) out[(y * w + x) * 4 + c] = Math.round(acc[c]! / n);
    }
  }
  return { width: w, height: h, data: out };
}

function crop(img: Rgba, left: number, top: number, right: number, bottom: number): Rgba {
  const x0 = Math.round(img.width * left), y0 = Math.round(img.height * top);
  const w = img.width - x0 - Math.round(img.width * right), h = img.height - y0 - Math.round(img.height * bottom);
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(((y + y0) * img.width + x0) * 4, ((y + y0) * img.width + x0 + w) * 4), y * w * 4);
  return { width: w, height: h, data: out };
}

function brightness(img: Rgba, f: number): Rgba {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = i % 4 === 3 ? img.data[i]! : Math.max(0, Math.min(255, Math.round(img.data[i]! * f)));
  return { ...img, data: out };
}

const toJpeg = (img: Rgba, q: number) => new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data: Buffer.from(img.data) }, q).data);
// pngjs's encoder (src/assets.d.ts declares only the decoder the service uses).
const PngWriter = PNG as unknown as { sync: { write(png: { width: number; height: number; data: Buffer }): Buffer } };
const toPng = (img: Rgba) => new Uint8Array(PngWriter.sync.write({ width: img.width, height: img.height, data: Buffer.from(img.data) }));
const scaleTo = (img: Rgba, f: number) => resize(img, Math.max(8, Math.round(img.width * f)), Math.max(8, Math.round(img.height * f)));

const TRANSFORMS: Array<[string, (img: Rgba) => Uint8Array]> = [
  ["re-encoded q40", (i) => toJpeg(i, 40)],
  ["resized 50%", (i) => toJpeg(scaleTo(i, 0.5), 85)],
  ["resized 75%, q60", (i) => toJpeg(scaleTo(i, 0.75), 60)],
  ["cropped 4% each side", (i) => toJpeg(crop(i, 0.04, 0.04, 0.04, 0.04), 85)],
  ["cropped 8% off one side", (i) => toJpeg(crop(i, 0, 0, 0.08, 0), 85)],
  ["brighter ×1.25", (i) => toJpeg(brightness(i, 1.25), 85)],
  ["darker ×0.75", (i) => toJpeg(brightness(i, 0.75), 85)],
  ["PNG at 60%", (i) => toPng(scaleTo(i, 0.6))],
];

async function hashOf(bytes: Uint8Array): Promise<bigint> {
  const px = await decodeImage(bytes);
  if (!px) throw new Error("not decodable");
  return perceptualHash(px);
}

const started = performance.now();
const originals: Array<{ name: string; hash: bigint; copies: Array<{ kind: string; hash: bigint }> }> = [];
for (const file of files) {
  const px = await decodeImage(new Uint8Array(await Bun.file(file).arrayBuffer()));
  if (!px) continue;
  let img: Rgba = upright(px);
  const long = Math.max(img.width, img.height);
  if (long > 1024) img = scaleTo(img, 1024 / long);
  const posted = toJpeg(img, 85);
  const postedImg = upright((await decodeImage(posted))!);
  const copies = [];
  for (const [kind, make] of TRANSFORMS) copies.push({ kind, hash: await hashOf(make(postedImg)) });
  originals.push({ name: file.split("/").pop()!, hash: await hashOf(posted), copies });
}
const nCopies = originals.reduce((n, o) => n + o.copies.length, 0);
console.log(`${originals.length} photos, ${nCopies} transformed copies (${TRANSFORMS.length} kinds), hashed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

// Distances: copy → its own original; and every pair of different photos (each photo with its copies).
const own: Array<{ kind: string; d: number }> = [];
for (const o of originals) for (const c of o.copies) own.push({ kind: c.kind, d: hammingDistance(o.hash, c.hash) });
const cross: number[] = [];
for (let i = 0; i < originals.length; i++) {
  for (let j = i + 1; j < originals.length; j++) {
    const a = [originals[i]!.hash, ...originals[i]!.copies.map((c) => c.hash)];
    cross.push(...a.map((h) => hammingDistance(h, originals[j]!.hash)));
  }
}
const closest = Math.min(...cross);

console.log("| threshold | copies matched | different photos matched (false) |");
console.log("|---|---|---|");
for (const t of [4, 6, 8, 10, 12, 14, 16]) {
  const m = own.filter((o) => o.d <= t).length;
  const f = cross.filter((d) => d <= t).length;
  console.log(`| ≤ ${t} | ${m}/${own.length} (${((100 * m) / own.length).toFixed(1)} %) | ${f}/${cross.length} (${((100 * f) / cross.length).toFixed(3)} %) |`);
}
const threshold = Number(process.argv[2] ?? 10);
console.log(`\nper kind of copy, at ≤ ${threshold}:`);
for (const [kind] of TRANSFORMS) {
  const ds = own.filter((o) => o.kind === kind).map((o) => o.d);
  console.log(`  ${kind.padEnd(24)} ${ds.filter((d) => d <= threshold).length}/${ds.length} matched; distance median ${ds.sort((a, b) => a - b)[Math.floor(ds.length / 2)]}, max ${Math.max(...ds)}`);
}
console.log(`\nclosest pair of different photos: distance ${closest}; copy distances: median ${own.map((o) => o.d).sort((a, b) => a - b)[Math.floor(own.length / 2)]}, max ${Math.max(...own.map((o) => o.d))}`);

if (process.env.SHOW_FALSE) {
  for (let i = 0; i < originals.length; i++) for (let j = i + 1; j < originals.length; j++) {
    const d = hammingDistance(originals[i]!.hash, originals[j]!.hash);
    if (d <= threshold) console.log(`  false: ${originals[i]!.name} ~ ${originals[j]!.name}: ${d}`);
  }
}
