/**
 * A perceptual hash of a photo, to catch re-posts: the same picture re-encoded, resized, cropped
 * a little or made brighter hashes to (nearly) the same 64 bits, while different pictures differ
 * in about half of them. The classic pHash: the upright image in grey, area-averaged down to
 * 32×32, a 2-D DCT, and one bit per coefficient of its low-frequency 8×8 corner saying whether
 * it is above the corner's median (the DC term's bit: brighter than mid-grey or not). Compare
 * two hashes by their Hamming distance (`hammingDistance`; in SQL `bit_count` of the XOR).
 */
import { decodeImage, type Pixels } from "./decode";
import { uprightView } from "./model-input";

const N = 32;
const K = 8;

/** cos((2x+1)uπ / 2N) for the DCT-II, computed once. */
const COS: Float64Array = (() => {
  const c = new Float64Array(N * N);
  for (let u = 0; u < N; u++) for (let x = 0; x < N; x++) c[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return c;
})();

/** The upright image in grey (Rec. 601 luma; transparency over white), area-averaged to N×N. */
function greyThumbnail(img: Pixels): Float64Array {
  const { width: w, height: h, base, stepX, stepY, channels } = uprightView(img);
  const data = img.data;
  const out = new Float64Array(N * N);
  for (let ty = 0; ty < N; ty++) {
    const y0 = Math.floor((ty * h) / N);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / N));
    for (let tx = 0; tx < N; tx++) {
      const x0 = Math.floor((tx * w) / N);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / N));
      // Large images: sample at most 8×8 points per cell (the average barely moves, the cost does).
      const sy = Math.max(1, Math.floor((y1 - y0) / 8));
      const sx = Math.max(1, Math.floor((x1 - x0) / 8));
      let sum = 0;
      let n = 0;
      for (let y = y0; y < Math.min(y1, h); y += sy) {
        for (let x = x0; x < Math.min(x1, w); x += sx) {
          const i = base + x * stepX + y * stepY;
          let l = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
          if (channels === 4) {
            const a = data[i + 3]! / 255;
            l = l * a + 255 * (1 - a);
          }
          sum += l;
          n++;
        }
      }
      out[ty * N + tx] = n ? sum / n : 0;
    }
  }
  return out;
}

/** The 64-bit perceptual hash of decoded pixels, as an unsigned bigint. */
export function perceptualHash(img: Pixels): bigint {
  const g = greyThumbnail(img);
  // Separable 2-D DCT-II, only the K×K low-frequency corner is needed.
  const rows = new Float64Array(N * K); // rows[y*K+u] = Σx g[y][x]·cos(u,x)
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += g[y * N + x]! * COS[u * N + x]!;
      rows[y * K + u] = s;
    }
  }
  const coeffs = new Float64Array(K * K); // coeffs[v*K+u]
  for (let v = 0; v < K; v++) {
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += rows[y * K + u]! * COS[v * N + y]!;
      coeffs[v * K + u] = s;
    }
  }
  // The DC term (overall brightness) would always be "above the median": the median is taken
  // over the 63 others, and the DC bit is instead whether the image is brighter than mid-grey.
  const ac = Array.from(coeffs.subarray(1)).sort((a, b) => a - b);
  const median = ac[Math.floor(ac.length / 2)]!;
  let hash = 0n;
  for (let i = 0; i < K * K; i++) {
    const bit = i === 0 ? coeffs[0]! / (N * N) > 127.5 : coeffs[i]! > median;
    if (bit) hash |= 1n << BigInt(i);
  }
  return hash;
}

/** How many of the 64 bits differ. */
export function hammingDistance(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}

/** As stored in a PostgreSQL `bigint` column (signed), and back. */
export const toSigned64 = (h: bigint) => BigInt.asIntN(64, h);
export const fromSigned64 = (h: bigint | string | number) => BigInt.asUintN(64, BigInt(h));

/**
 * The perceptual hash of an uploaded photo, or null when it cannot be decoded here (a format
 * the decoder does not read, or a decode over the memory cap).
 */
export async function photoHash(bytes: Uint8Array, maxDecodeBytes?: number): Promise<bigint | null> {
  try {
    const px = await decodeImage(bytes, maxDecodeBytes);
    return px ? perceptualHash(px) : null;
  } catch {
    return null;
  }
}
