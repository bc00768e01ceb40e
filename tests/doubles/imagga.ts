/**
 * A local Imagga test double following reference/imagga.md: `POST /v2/tags` with a multipart
 * `image` field and HTTP Basic auth (key:secret); success and error bodies in Imagga's shapes.
 * Tags come from a table keyed by the image's SHA-256 (the fixture photos are preloaded from
 * tests/fixtures/images/tags.json); unknown images get non-vehicle tags.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { basicAuthOk, FaultPlan } from "./faults";

export interface TagDef {
  tag: string;
  confidence: number;
}

export const FIXTURES_DIR = join(import.meta.dir, "..", "fixtures", "images");

export function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** The fixture photos' tags, keyed by file name. */
export function fixtureTags(): Record<string, TagDef[]> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, "tags.json"), "utf8"));
}

const UNKNOWN: TagDef[] = [
  { tag: "pattern", confidence: 41.2 },
  { tag: "texture", confidence: 30.5 },
  { tag: "design", confidence: 18.1 },
];

export interface ImaggaCall {
  sha256: string;
  bytes: number;
  contentType: string;
  status: number;
  /** When the request arrived (epoch ms). */
  at: number;
}

export function startImaggaDouble(opts: { key?: string; secret?: string; port?: number } = {}) {
  const key = opts.key ?? "test-imagga-key";
  const secret = opts.secret ?? "test-imagga-secret";
  const byHash = new Map<string, TagDef[]>();
  const tags = fixtureTags();
  for (const file of readdirSync(FIXTURES_DIR)) {
    if (tags[file]) byHash.set(sha256(readFileSync(join(FIXTURES_DIR, file))), tags[file]!);
  }
  const calls: ImaggaCall[] = [];
  const failing = new Map<string, number>();
  const faults = new FaultPlan();
  let inFlight = 0;
  let maxInFlight = 0;
  const errorBody = (status: number) => ({ status: { type: "error", text: `simulated failure ${status}` } });

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/v2/tags") return Response.json({ status: { type: "error", text: "Not found" } }, { status: 404 });
      if (req.method !== "POST") return Response.json({ status: { type: "error", text: "Use POST with an image" } }, { status: 405 });
      if (!basicAuthOk(req, key, secret)) {
        return Response.json({ status: { type: "error", text: "You are not authorized." } }, { status: 401 });
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        let form: FormData;
        try {
          form = await req.formData();
        } catch {
          return Response.json({ status: { type: "error", text: "Expected multipart/form-data" } }, { status: 400 });
        }
        const image = form.get("image");
        if (!(image instanceof Blob) || image.size === 0) {
          return Response.json({ status: { type: "error", text: "Missing image file (field 'image')" } }, { status: 400 });
        }
        const bytes = new Uint8Array(await image.arrayBuffer());
        const hash = sha256(bytes);
        const pinned = failing.get(hash);
        const fault = pinned ? Response.json(errorBody(pinned), { status: pinned }) : await faults.next(errorBody);
        calls.push({ sha256: hash, bytes: bytes.byteLength, contentType: image.type, status: fault?.status ?? 200, at: Date.now() });
        if (fault) return fault;
        const result = (byHash.get(hash) ?? UNKNOWN).map((t) => ({ confidence: t.confidence, tag: { en: t.tag } }));
        return Response.json({ result: { tags: result }, status: { text: "", type: "success" } });
      } finally {
        inFlight--;
      }
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    key,
    secret,
    calls,
    faults,
    /** The highest number of requests seen at once. */
    maxInFlight: () => maxInFlight,
    /** Always answer `status` for this exact image (a poison image); other images are unaffected. */
    failFor(bytes: Uint8Array, status: number) {
      failing.set(sha256(bytes), status);
    },
    /** Answer `tags` for this exact image. */
    setTags(bytes: Uint8Array, t: TagDef[]) {
      byHash.set(sha256(bytes), t);
    },
    stop: () => server.stop(true),
  };
}

export type ImaggaDouble = ReturnType<typeof startImaggaDouble>;

/** Holds the double's answers back by `ms` while `fn` runs, so an ad stays pending long enough to watch it change. */
export async function withSlowImagga<T>(imagga: ImaggaDouble, ms: number, fn: () => Promise<T>): Promise<T> {
  imagga.faults.delayMs = ms;
  try {
    return await fn();
  } finally {
    imagga.faults.delayMs = 0;
  }
}
