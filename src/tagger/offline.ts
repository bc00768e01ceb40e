/**
 * Offline image tagger: a COCO object detector (CenterNet on MobileNetV3, the model that ships in
 * `@vladmandic/human`) run with TensorFlow.js on its WebAssembly backend. No network, no native
 * modules: the model, its weights and the .wasm binaries are embedded in the executable, and
 * images are decoded with pure-JS decoders (image/decode.ts: JPEG, PNG, GIF; capped in memory)
 * and sampled into the model input by image/model-input.ts. WebP is not decoded: that is a
 * permanent tagger error, so the ad ends `failed` for an operator to decide (a wrong automatic
 * rejection would be worse).
 *
 * Output is shaped like Imagga's: `{ name, confidence 0..100 }`, sorted by confidence. Every COCO
 * class detected above `SCORE_FLOOR` becomes a tag (score × 100, best box per class); a vehicle
 * class also adds the parent tags `vehicle` (and `motor vehicle` for road motor vehicles) just
 * below it, so the specific class stays the top tag and becomes the category.
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadGraphModel, type GraphModel } from "@tensorflow/tfjs-converter";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// The package's `exports` map hides models/, hence the path through node_modules.
import modelJsonPath from "../../node_modules/@vladmandic/human/models/centernet.json" with { type: "file" };
import modelBinPath from "../../node_modules/@vladmandic/human/models/centernet.bin" with { type: "file" };
import wasmPath from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm" with { type: "file" };
import wasmSimdPath from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm" with { type: "file" };
import type { Logger } from "../platform/logger";
import { DependencyError } from "../domain/errors";
import type { ImageTagger, Tag } from "./tagger";
import { decodeImage, type Pixels } from "../image/decode";
import { DecodeTooLarge, MAX_DECODE_BYTES } from "../image/decode-memory";
import { toModelInput } from "../image/model-input";

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
      image = await decodeImage(bytes, this.maxDecodeBytes);
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
