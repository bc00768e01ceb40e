/**
 * Offline image tagger: a COCO object detector (CenterNet on MobileNetV3, the model that ships in
 * `@vladmandic/human`) run with TensorFlow.js on its WebAssembly backend. No network, no native
 * modules: the model, its weights and the .wasm binaries are embedded in the executable, and
 * images are decoded with pure-JS decoders (JPEG: jpeg-js, PNG: pngjs, GIF: a small decoder
 * below). WebP is not decoded: that is a permanent tagger error, so the ad ends `failed` for an
 * operator to decide (a wrong automatic rejection would be worse).
 *
 * Output is shaped like Imagga's: `{ name, confidence 0..100 }`, sorted by confidence. Every COCO
 * class detected above `SCORE_FLOOR` becomes a tag (score × 100, best box per class); a vehicle
 * class also adds the parent tags `vehicle` (and `motor vehicle` for road motor vehicles) just
 * below it, so the specific class stays the top tag and becomes the category.
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel, type GraphModel } from "@tensorflow/tfjs-converter";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { inflateSync } from "node:zlib";
// The package's `exports` map hides models/, hence the path through node_modules.
import modelJsonPath from "../../node_modules/@vladmandic/human/models/centernet.json" with { type: "file" };
import modelBinPath from "../../node_modules/@vladmandic/human/models/centernet.bin" with { type: "file" };
import wasmPath from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm" with { type: "file" };
import wasmSimdPath from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm" with { type: "file" };
import type { Logger } from "./logger";
import { DependencyError } from "./errors";
import type { ImageTagger, Tag } from "./tagger";

/**
 * Recommended `minConfidence` for the `vehicle` tag with this tagger (Imagga's default is 50).
 * The detector's scores run lower than Imagga's confidences: on the fixture photos
 * (scripts/eval-offline-tagger.ts) the genuine vehicles score 29-88 and the photos without any
 * vehicle get no vehicle class at all (nothing above the 20 floor); 50 would reject the harbour.
 */
export const OFFLINE_MIN_CONFIDENCE = 25;

/** Detections below this score are ignored (the detector's own demo default). */
export const SCORE_FLOOR = 0.2;

/** COCO class names in the model's output order (index = class id). */
const COCO = [
  "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
  "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
  "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
  "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
  "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
  "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
  "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
  "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
  "scissors", "teddy bear", "hair drier", "toothbrush",
] as const;

const VEHICLES = new Set(["bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"]);
const MOTOR_VEHICLES = new Set(["car", "bus", "truck", "motorcycle"]);

/** The parent tags sit this far (in confidence points) below the specific class. */
const PARENT_GAP = 0.01;

const OUTPUT_NODE = "tower_0/detections"; // [1, 100, 6]: x1, y1, x2, y2, score, class

export interface OfflineTaggerOptions {
  log?: Logger;
  /**
   * When a vehicle class is detected, keep it (and its parent tags) above every non-vehicle tag,
   * so it becomes the category even when, say, a person beside the car scores higher: such a
   * non-vehicle tag is lowered to just under the parent tags. Default true; false gives the raw
   * detector scores for every class.
   */
  vehicleOnTop?: boolean;
  /** The most memory one decode may take (default `MAX_DECODE_BYTES`). */
  maxDecodeBytes?: number;
}

/**
 * Decoded pixels, 8 bits per sample, as stored (not yet turned upright): RGB (`channels` 3) or
 * RGBA (4, the default). `orientation` is the EXIF orientation (1-8, default 1), applied while
 * sampling the model input, so no rotated copy of a large image is ever made.
 */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
  channels?: 3 | 4;
  orientation?: number;
}

/**
 * The most memory one offline decode may take, estimated from the image's header before any
 * pixel is decoded (see `decodeMemoryEstimate`). The pure-JS decoders hold whole images, several
 * times over: an upload inside the intake caps (10 MiB, 50 MP) can need over 1 GiB, e.g. a
 * 7071×7071 16-bit RGBA PNG (~400 KB when uniform). Above this the decode is refused with a
 * permanent error (the ad goes to `failed`, for an operator), and the process lives on.
 * 320 MiB admits a 24 MP phone JPEG (4:2:0, estimated ~270 MiB; RSS grows ~18 % more than the
 * estimate) and refuses 16-bit bombs and anything near the 50 MP intake cap as JPEG.
 * What fits: JPEG 4:2:0 up to ~24 MP, 4:4:4 up to ~15 MP; 8-bit PNG up to ~20 MP (RGBA) or
 * ~25 MP (RGB); GIF up to ~50 MP (the intake cap).
 */
export const MAX_DECODE_BYTES = 320 * 1024 * 1024;

/** Thrown by the decoders when an image would need more than the allowed memory. */
export class DecodeTooLarge extends Error {
  override readonly name = "DecodeTooLarge";
  constructor(
    readonly width: number,
    readonly height: number,
    readonly estimatedBytes: number,
    readonly maxBytes: number,
  ) {
    const mib = (n: number) => Math.ceil(n / 1048576);
    super(`decoding this ${width}×${height} image would need about ${mib(estimatedBytes)} MiB; the limit is ${mib(maxBytes)} MiB`);
  }
}

let backendReady: Promise<void> | null = null;

/** Sets up TensorFlow.js once per process: our own platform, the embedded wasm, the wasm backend. */
function initBackend(): Promise<void> {
  backendReady ??= (async () => {
    // Bundled (and compiled) builds drop tfjs-core's side-effect platform registration, and its
    // Node platform would fetch over HTTP anyway; register a minimal one that reads local files.
    tf.enableProdMode(); // also silences "platform already set" when running from source
    tf.setPlatform("bun-offline", new LocalPlatform());
    // One thread: the threaded build needs worker blobs; SIMD is used when the runtime has it.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setWasmPaths(
      {
        "tfjs-backend-wasm.wasm": wasmPath,
        "tfjs-backend-wasm-simd.wasm": wasmSimdPath,
        "tfjs-backend-wasm-threaded-simd.wasm": wasmSimdPath, // never chosen (threads are off)
      },
      true, // load through the platform's fetch, i.e. LocalPlatform.fetch below
    );
    if (!(await tf.setBackend("wasm"))) throw new Error("TensorFlow.js wasm backend failed to initialise");
    await tf.ready();
  })();
  return backendReady;
}

/** A tfjs platform for Bun: `fetch` of a local path (embedded or not) reads the file. */
class LocalPlatform {
  private readonly encoder = new TextEncoder();
  fetch(path: string): Promise<Response> {
    if (/^https?:/i.test(path)) return Promise.reject(new Error(`offline tagger: refusing network fetch of ${path}`));
    return Bun.file(path)
      .arrayBuffer()
      .then((buf) => new Response(buf, { headers: { "content-type": path.endsWith(".wasm") ? "application/wasm" : "application/octet-stream" } }));
  }
  now(): number {
    return performance.now();
  }
  encode(text: string, encoding: string): Uint8Array {
    if (encoding !== "utf-8" && encoding !== "utf8") throw new Error(`unsupported encoding ${encoding}`);
    return this.encoder.encode(text);
  }
  decode(bytes: Uint8Array, encoding: string): string {
    return new TextDecoder(encoding).decode(bytes);
  }
  isTypedArray(a: unknown): a is Float32Array | Int32Array | Uint8Array | Uint8ClampedArray {
    return a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray;
  }
  setTimeoutCustom(fn: () => void, delay: number): void {
    setTimeout(fn, delay);
  }
}

export class OfflineTagger implements ImageTagger {
  private queue: Promise<unknown> = Promise.resolve();
  /** Milliseconds spent loading the model and warming it up (set once by `create`). */
  loadMs = 0;

  private constructor(
    private readonly model: GraphModel,
    private readonly inputSize: number,
    private readonly log: Logger | undefined,
    private readonly vehicleOnTop: boolean,
    private readonly maxDecodeBytes: number,
  ) {}

  /** Loads the embedded model once and runs it once on a blank image (the first run is slow). */
  static async create(opts: OfflineTaggerOptions = {}): Promise<OfflineTagger> {
    const started = performance.now();
    await initBackend();
    // tsc types a .json import as its content (resolveJsonModule); with type "file" it is a path.
    const json = (await Bun.file(modelJsonPath as unknown as string).json()) as ModelJson;
    const weights = await Bun.file(modelBinPath).arrayBuffer();
    const model = await loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: weights,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
      } as tf.io.ModelArtifacts),
    );
    const dims = Object.values(json.signature?.inputs ?? {})[0]?.tensorShape?.dim;
    const inputSize = Number(dims?.[1]?.size) > 0 ? Number(dims?.[1]?.size) : 512;
    const tagger = new OfflineTagger(model, inputSize, opts.log, opts.vehicleOnTop ?? true, opts.maxDecodeBytes ?? MAX_DECODE_BYTES);
    await tagger.detect(new Float32Array(inputSize * inputSize * 3)); // warm-up
    tagger.loadMs = Math.round(performance.now() - started);
    opts.log?.info("offline tagger ready", { model: "centernet-mobilenetv3 (COCO)", backend: tf.getBackend(), inputSize, loadMs: tagger.loadMs });
    return tagger;
  }

  /** Tags one image. Calls run one at a time (one model instance). */
  tag(bytes: Uint8Array, _contentType: string): Promise<Tag[]> { // the format is read from the bytes
    const run = this.queue.then(() => this.tagNow(bytes));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async tagNow(bytes: Uint8Array): Promise<Tag[]> {
    const started = performance.now();
    let image: Pixels | null;
    try {
      image = decodeImage(bytes, this.maxDecodeBytes);
    } catch (err) {
      if (err instanceof DecodeTooLarge) {
        this.log?.warn("offline tagger refused a decode: too large", { width: err.width, height: err.height, estimated_bytes: err.estimatedBytes, max_bytes: err.maxBytes });
        // Permanent: the same bytes will never fit. The ad goes to `failed`, for an operator.
        throw new DependencyError("tagger", `offline tagger cannot decode the image: ${err.message}`, false, "too_large", { cause: err });
      }
      throw new DependencyError("tagger", `offline tagger cannot decode the image: ${(err as Error).message}`, false, "undecodable", {
        cause: err,
      });
    }
    if (!image) {
      // Not a rejection: nothing was looked at. The ad goes to `failed`, where an operator sees it.
      throw new DependencyError("tagger", "the offline tagger cannot read WebP images; an operator must decide", false, "unsupported_format");
    }
    const scores = await this.detect(toModelInput(image, this.inputSize));
    const tags = toTags(scores, { vehicleOnTop: this.vehicleOnTop });
    this.log?.debug("offline tagger", {
      ms: Math.round(performance.now() - started),
      width: image.width,
      height: image.height,
      top: tags[0]?.name,
    });
    return tags;
  }

  /** Runs the detector; returns the best score per COCO class. */
  private async detect(pixels: Float32Array): Promise<Map<string, number>> {
    const size = this.inputSize;
    const input = tf.tensor4d(pixels, [1, size, size, 3], "float32");
    let out: tf.Tensor | undefined;
    try {
      out = this.model.execute(input, OUTPUT_NODE) as tf.Tensor;
      const det = await out.data();
      const best = new Map<string, number>();
      for (let i = 0; i + 5 < det.length; i += 6) {
        const score = det[i + 4]!;
        const cls = det[i + 5]!;
        if (!(score >= SCORE_FLOOR) || !Number.isInteger(cls)) continue;
        const name = COCO[cls];
        if (!name) continue;
        if (score > (best.get(name) ?? 0)) best.set(name, score);
      }
      return best;
    } finally {
      input.dispose();
      out?.dispose();
    }
  }
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: { inputs?: Record<string, { tensorShape?: { dim?: Array<{ size?: string }> } }> };
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** Best score (0-1) per class → Imagga-shaped tags, parents added for vehicles, sorted. */
export function toTags(best: ReadonlyMap<string, number>, opts: { vehicleOnTop?: boolean } = {}): Tag[] {
  const round = (n: number) => Math.round(n * 100) / 100;
  const tags: Tag[] = [];
  let vehicle = 0;
  let motor = 0;
  for (const [name, score] of best) {
    const confidence = round(score * 100);
    tags.push({ name, confidence });
    if (VEHICLES.has(name)) vehicle = Math.max(vehicle, confidence);
    if (MOTOR_VEHICLES.has(name)) motor = Math.max(motor, confidence);
  }
  if (motor > 0) tags.push({ name: "motor vehicle", confidence: round(Math.max(0, motor - 2 * PARENT_GAP)) });
  if (vehicle > 0) tags.push({ name: "vehicle", confidence: round(Math.max(0, vehicle - PARENT_GAP)) });
  if (vehicle > 0 && (opts.vehicleOnTop ?? true)) {
    const ceiling = round(Math.max(0, vehicle - 3 * PARENT_GAP));
    for (const t of tags) if (!VEHICLES.has(t.name) && t.name !== "vehicle" && t.name !== "motor vehicle") t.confidence = Math.min(t.confidence, ceiling);
  }
  return tags.sort((a, b) => b.confidence - a.confidence || a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes JPEG, PNG or GIF (first frame); `null` for formats not decoded offline (WebP). The
 * pixels come as stored, with the EXIF orientation beside them (see `Pixels`). Throws
 * `DecodeTooLarge`, before decoding anything, when the decode would need more than `maxBytes`.
 */
export function decodeImage(b: Uint8Array, maxBytes = MAX_DECODE_BYTES): Pixels | null {
  const estimate = decodeMemoryEstimate(b);
  if (estimate && estimate.bytes > maxBytes) throw new DecodeTooLarge(estimate.width, estimate.height, estimate.bytes, maxBytes);
  if (isJpeg(b)) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      // RGB, not RGBA: a quarter less memory. jpeg-js's own accounting is the backstop for
      // anything the estimate missed.
      img = jpeg.decode(b, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 100, maxMemoryUsageInMB: Math.max(1, Math.floor(maxBytes / 1048576)) });
    } catch (err) {
      const m = /max(MemoryUsageInMB|ResolutionInMP) limit exceeded/.exec((err as Error).message ?? "");
      if (m) throw new DecodeTooLarge(estimate?.width ?? 0, estimate?.height ?? 0, estimate?.bytes ?? maxBytes + 1, maxBytes);
      throw err;
    }
    const exif = (img as { exifBuffer?: Uint8Array }).exifBuffer; // set by jpeg-js, missing from its types
    return { width: img.width, height: img.height, data: img.data, channels: 3, orientation: exif ? exifOrientation(exif) : 1 };
  }
  if (isPng(b)) {
    if (estimate?.interlaced) {
      // pngjs inflates interlaced images with no output limit: a small stream of zeros could
      // inflate to gigabytes. Check the inflated size first, with a limit (the memory is counted
      // in the estimate).
      inflateSync(pngImageData(b), { maxOutputLength: estimate.rawBytes });
    }
    const png = PNG.sync.read(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return { width: png.width, height: png.height, data: png.data, channels: 4 };
  }
  if (isGif(b)) return decodeGifFirstFrame(b, maxBytes);
  const ascii = (o: number, t: string) => [...t].every((c, i) => b[o + i] === c.charCodeAt(0));
  if (b.length >= 12 && ascii(0, "RIFF") && ascii(8, "WEBP")) return null; // no pure-JS WebP decoder here
  throw new Error("not a JPEG, PNG, GIF or WebP image");
}

const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isGif = (b: Uint8Array) => b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46;

export interface DecodeEstimate {
  width: number;
  height: number;
  /** Bytes the decoder will allocate at its peak (what it holds at once, garbage included). */
  bytes: number;
  /** PNG: the size of the inflated image data. */
  rawBytes?: number;
  /** PNG: Adam7-interlaced. */
  interlaced?: boolean;
}

/**
 * How much memory decoding `b` will take, from its header alone (nothing is decoded); null when
 * the header cannot be read (the decoder then fails on its own) or for WebP. The figures follow
 * what the decoders used here allocate:
 * - JPEG (jpeg-js): 256 bytes per 8×8 block of coefficients of each component (blocks padded
 *   to whole MCUs), the component planes, one interleaved copy (w·h·components), the RGB output.
 * - PNG (pngjs, sync): the inflated data, the unfiltered lines and their concatenation (3 × the
 *   raw size, which counts bit depth, channels and the filter byte per row, per Adam7 pass when
 *   interlaced), the bitmap (RGBA, 16-bit samples for 16-bit images) and, for 16-bit images,
 *   the 8-bit RGBA copy; plus the raw size again for our own inflate check of interlaced images.
 * - GIF (decoded below): the LZW data, one index per frame pixel, the RGB canvas.
 */
export function decodeMemoryEstimate(b: Uint8Array): DecodeEstimate | null {
  if (isJpeg(b)) return jpegEstimate(b);
  if (isPng(b)) return pngEstimate(b);
  if (isGif(b)) return gifEstimate(b);
  return null;
}

function jpegEstimate(b: Uint8Array): DecodeEstimate | null {
  const n = b.length;
  let pos = 2;
  while (pos + 4 <= n) {
    if (b[pos] !== 0xff) return null;
    while (pos < n && b[pos] === 0xff) pos++;
    const marker = b[pos++];
    if (marker === undefined) return null;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no payload
    if (marker === 0xd9 || marker === 0xda) return null; // EOI / SOS before any frame header
    if (pos + 2 > n) return null;
    const len = (b[pos]! << 8) | b[pos + 1]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 8 > n) return null;
      const height = (b[pos + 3]! << 8) | b[pos + 4]!;
      const width = (b[pos + 5]! << 8) | b[pos + 6]!;
      const count = b[pos + 7]!;
      if (pos + 8 + 3 * count > n || count === 0) return null;
      const comps: Array<{ h: number; v: number }> = [];
      for (let i = 0; i < count; i++) {
        const hv = b[pos + 8 + 3 * i + 1]!;
        comps.push({ h: Math.max(1, hv >> 4), v: Math.max(1, hv & 15) });
      }
      const maxH = Math.max(...comps.map((c) => c.h));
      const maxV = Math.max(...comps.map((c) => c.v));
      const mcusPerLine = Math.ceil(width / 8 / maxH);
      const mcusPerColumn = Math.ceil(height / 8 / maxV);
      let bytes = n; // jpeg-js copies its input
      for (const c of comps) {
        bytes += mcusPerColumn * c.v * (mcusPerLine * c.h) * 256; // coefficient blocks (Int32 × 64)
        const blocksPerLine = Math.ceil((Math.ceil(width / 8) * c.h) / maxH);
        const blocksPerColumn = Math.ceil((Math.ceil(height / 8) * c.v) / maxV);
        bytes += blocksPerLine * 8 * blocksPerColumn * 8; // the component's sample lines
      }
      bytes += width * height * count; // interleaved samples (getData)
      bytes += width * height * 3; // RGB output
      return { width, height, bytes };
    }
    pos += len;
  }
  return null;
}

/** Channels per PNG colour type. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x offset, y offset, x step, y step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

function pngEstimate(b: Uint8Array): DecodeEstimate | null {
  // Signature (8), then IHDR: length (4), type (4), width, height, depth, colour type, compression, filter, interlace.
  if (b.length < 29 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return null;
  const u32 = (o: number) => b[o]! * 0x1000000 + b[o + 1]! * 0x10000 + b[o + 2]! * 0x100 + b[o + 3]!;
  const width = u32(16);
  const height = u32(20);
  const depth = b[24]!;
  const channels = PNG_CHANNELS[b[25]!];
  const interlaced = b[28] === 1;
  if (!channels || !(depth >= 1 && depth <= 16) || width === 0 || height === 0) return null;
  const rowBytes = (w: number) => Math.ceil((w * channels * depth) / 8) + 1;
  let raw = 0;
  if (interlaced) {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((width - x0) / dx);
      const ph = Math.ceil((height - y0) / dy);
      if (pw > 0 && ph > 0) raw += ph * rowBytes(pw);
    }
  } else raw = height * rowBytes(width);
  const pixels = width * height;
  let bytes = b.length + 3 * raw + pixels * 4 * (depth === 16 ? 2 : 1);
  if (depth === 16) bytes += pixels * 4;
  if (interlaced) bytes += raw;
  return { width, height, bytes, rawBytes: raw, interlaced };
}

/** The concatenated IDAT data of a PNG (the zlib stream). */
function pngImageData(b: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const u32 = (o: number) => b[o]! * 0x1000000 + b[o + 1]! * 0x10000 + b[o + 2]! * 0x100 + b[o + 3]!;
  for (let pos = 8; pos + 8 <= b.length; ) {
    const len = u32(pos);
    const type = String.fromCharCode(b[pos + 4]!, b[pos + 5]!, b[pos + 6]!, b[pos + 7]!);
    if (type === "IDAT") parts.push(b.subarray(pos + 8, Math.min(b.length, pos + 8 + len)));
    if (type === "IEND") break;
    pos += 12 + len;
  }
  return Buffer.concat(parts);
}

function gifEstimate(b: Uint8Array): DecodeEstimate | null {
  if (b.length < 10) return null;
  const width = b[6]! | (b[7]! << 8);
  const height = b[8]! | (b[9]! << 8);
  // The frame's own size is checked again by the decoder, once it has found the frame.
  return { width, height, bytes: b.length + width * height * 3 };
}

/**
 * EXIF orientation (1-8) from a JPEG's APP1 payload: starting at "Exif\0\0", at the TIFF header,
 * or (as jpeg-js hands it over) at the second NUL of "Exif\0\0".
 */
export function exifOrientation(exif: Uint8Array): number {
  let t = 0;
  if (exif.length >= 6 && exif[0] === 0x45 && exif[1] === 0x78 && exif[2] === 0x69 && exif[3] === 0x66) t = 6;
  else if (exif[0] === 0) t = 1;
  if (t + 8 > exif.length) return 1;
  const le = exif[t] === 0x49 && exif[t + 1] === 0x49;
  if (!le && !(exif[t] === 0x4d && exif[t + 1] === 0x4d)) return 1;
  const u16 = (o: number) => (le ? exif[o]! | (exif[o + 1]! << 8) : (exif[o]! << 8) | exif[o + 1]!);
  const u32 = (o: number) => (le ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2));
  const ifd = t + u32(t + 4);
  if (ifd + 2 > exif.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > exif.length) break;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

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
function uprightView(img: Pixels): { width: number; height: number; base: number; stepX: number; stepY: number; channels: 3 | 4 } {
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

/**
 * Decodes the first frame of a GIF onto a white RGB canvas (enough for tagging). Throws
 * `DecodeTooLarge` before allocating when the canvas, the frame's indices and its LZW data would
 * need more than `maxBytes`.
 */
export function decodeGifFirstFrame(b: Uint8Array, maxBytes = MAX_DECODE_BYTES): Pixels {
  let p = 6;
  const need = (n: number) => {
    if (p + n > b.length) throw new Error("GIF is truncated");
  };
  need(7);
  const width = b[p]! | (b[p + 1]! << 8);
  const height = b[p + 2]! | (b[p + 3]! << 8);
  const flags = b[p + 4]!;
  const bgIndex = b[p + 5]!;
  p += 7;
  if (width === 0 || height === 0) throw new Error("GIF has no pixels");
  let globalTable: Uint8Array | null = null;
  if (flags & 0x80) {
    const n = 3 * (1 << ((flags & 7) + 1));
    need(n);
    globalTable = b.subarray(p, p + n);
    p += n;
  }
  void bgIndex;
  let transparent = -1;
  for (;;) {
    need(1);
    const block = b[p++]!;
    if (block === 0x3b) throw new Error("GIF has no image");
    if (block === 0x21) {
      need(1);
      const label = b[p++]!;
      for (;;) {
        need(1);
        const len = b[p++]!;
        if (len === 0) break;
        need(len);
        if (label === 0xf9 && len >= 4 && b[p]! & 1) transparent = b[p + 3]!;
        p += len;
      }
      continue;
    }
    if (block !== 0x2c) throw new Error("GIF has an unknown block");
    need(9);
    const fx = b[p]! | (b[p + 1]! << 8);
    const fy = b[p + 2]! | (b[p + 3]! << 8);
    const fw = b[p + 4]! | (b[p + 5]! << 8);
    const fh = b[p + 6]! | (b[p + 7]! << 8);
    const fflags = b[p + 8]!;
    p += 9;
    let table = globalTable;
    if (fflags & 0x80) {
      const n = 3 * (1 << ((fflags & 7) + 1));
      need(n);
      table = b.subarray(p, p + n);
      p += n;
    }
    if (!table) throw new Error("GIF has no colour table");
    need(1);
    const minCode = b[p++]!;
    if (minCode < 2 || minCode > 11) throw new Error("GIF has a bad LZW code size");
    // Gather the sub-blocks.
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      need(1);
      const len = b[p++]!;
      if (len === 0) break;
      need(len);
      chunks.push(b.subarray(p, p + len));
      total += len;
      p += len;
    }
    const needed = total + fw * fh + width * height * 3;
    if (needed > maxBytes) throw new DecodeTooLarge(width, height, needed, maxBytes);
    const lzw = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      lzw.set(c, off);
      off += c.length;
    }
    const indices = lzwDecode(lzw, minCode, fw * fh);
    const rgb = new Uint8Array(width * height * 3).fill(255);
    const interlaced = (fflags & 0x40) !== 0;
    const rows = interlaced ? interlaceOrder(fh) : null;
    for (let i = 0; i < fw * fh && i < indices.length; i++) {
      const idx = indices[i]!;
      if (idx === transparent) continue;
      const row = rows ? rows[Math.floor(i / fw)]! : Math.floor(i / fw);
      const x = fx + (i % fw);
      const y = fy + row;
      if (x >= width || y >= height || idx * 3 + 2 >= table.length) continue;
      const d = (y * width + x) * 3;
      rgb[d] = table[idx * 3]!;
      rgb[d + 1] = table[idx * 3 + 1]!;
      rgb[d + 2] = table[idx * 3 + 2]!;
    }
    return { width, height, data: rgb, channels: 3 };
  }
}

function interlaceOrder(h: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) for (let y = start; y < h; y += step) rows.push(y);
  return rows;
}

function lzwDecode(data: Uint8Array, minCode: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCode;
  const eoi = clear + 1;
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const stack = new Uint8Array(4097);
  let codeSize = minCode + 1;
  let next = eoi + 1;
  let old = -1;
  let first = 0;
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < data.length && o < pixels; ) {
    while (bits < codeSize && i < data.length) {
      acc |= data[i++]! << bits;
      bits += 8;
    }
    if (bits < codeSize) break;
    const code = acc & ((1 << codeSize) - 1);
    acc >>>= codeSize;
    bits -= codeSize;
    if (code === clear) {
      codeSize = minCode + 1;
      next = eoi + 1;
      old = -1;
      continue;
    }
    if (code === eoi) break;
    if (old === -1) {
      if (code >= clear) break;
      out[o++] = code;
      old = first = code;
      continue;
    }
    let c = code;
    let sp = 0;
    if (c >= next) {
      stack[sp++] = first;
      c = old;
    }
    while (c > clear) {
      if (sp >= 4096) return out;
      stack[sp++] = suffix[c]!;
      c = prefix[c]!;
    }
    first = c;
    stack[sp++] = c;
    if (next < 4096) {
      prefix[next] = old;
      suffix[next] = first;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    while (sp > 0 && o < pixels) out[o++] = stack[--sp]!;
    old = code;
  }
  return out;
}
