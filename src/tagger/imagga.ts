import type { ImaggaConfig } from "../config";
import { DependencyError } from "../domain/errors";
import type { ImageTagger, Tag } from "./tagger";

interface ImaggaResponse {
  result?: { tags?: Array<{ confidence: number; tag: Record<string, string> }> };
  status?: { type?: string; text?: string };
}

/** Tags images with Imagga's `POST /v2/tags`, sending the bytes (no public URL leaves the system). */
export class ImaggaTagger implements ImageTagger {
  private readonly auth: string;

  constructor(
    private readonly cfg: ImaggaConfig,
    private readonly timeoutMs = 30_000,
  ) {
    this.auth = "Basic " + Buffer.from(`${cfg.apiKey}:${cfg.apiSecret}`).toString("base64");
  }

  /**
   * One call to Imagga. Concurrency is not limited here: the worker's single tagging gate
   * (compose.ts, `taggingLimit`) applies WORKER_CONCURRENCY and IMAGGA_MAX_CONCURRENCY together.
   */
  async tag(bytes: Uint8Array, contentType: string): Promise<Tag[]> {
    const form = new FormData();
    form.append("image", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType }), "image");
    let res: Response;
    try {
      res = await fetch(`${this.cfg.apiUrl}/v2/tags`, {
        method: "POST",
        headers: { authorization: this.auth, accept: "application/json" },
        body: form,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      throw new DependencyError("tagger", `Imagga unreachable: ${(err as Error).message}`, true, name === "TimeoutError" ? "timeout" : "network", {
        cause: err,
      });
    }
    const body = (await res.json().catch(() => null)) as ImaggaResponse | null;
    if (!res.ok || body?.status?.type === "error") {
      const text = body?.status?.text?.slice(0, 300) ?? res.statusText;
      const s = res.status;
      // 4xx other than 401/403/408/429: this image will never work. 401/403 mean our credentials
      // are wrong: retried with backoff (not hammered) so the backlog drains once an operator fixes
      // them. 429, 5xx and an error body on a 200: try again later.
      const transient = res.ok || s === 401 || s === 403 || s === 408 || s === 429 || s >= 500;
      const reason = s === 401 || s === 403 ? "auth" : `http_${s}`;
      throw new DependencyError("tagger", `Imagga answered ${s}: ${text}`, transient, reason);
    }
    const raw = body?.result?.tags;
    if (!Array.isArray(raw)) throw new DependencyError("tagger", "Imagga answered without result.tags", true, "bad_response");
    return raw
      .map((t) => ({ name: String(t.tag?.en ?? Object.values(t.tag ?? {})[0] ?? ""), confidence: Number(t.confidence) }))
      .filter((t) => t.name.length > 0 && Number.isFinite(t.confidence));
  }
}
