import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { DependencyError } from "./errors";
import type { ImageStorage, StoredObject } from "./storage";

const TYPES: Record<string, string> = { jpg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp" };

/**
 * ImageStorage in a local directory (the embedded default): the same keys as in S3, each file
 * written to a temporary name, flushed, then renamed, so a crash never leaves half an image.
 */
export class FileImageStorage implements ImageStorage {
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  private path(key: string): string {
    const p = resolve(this.root, key);
    // Keys are derived from ids, but never let one escape the directory.
    if (!p.startsWith(this.root + sep)) throw new DependencyError("storage", "invalid object key", false, "invalid_key");
    return p;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DependencyError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      // A full or read-only disk may recover; anything else needs an operator.
      throw new DependencyError("storage", `${what} failed: ${(err as Error).message}`, ["ENOSPC", "EAGAIN", "EBUSY", "EMFILE"].includes(code), code, { cause: err });
    }
  }

  ensureReady(): Promise<void> {
    return this.call("create directory", async () => {
      await mkdir(this.root, { recursive: true });
    });
  }

  put(key: string, bytes: Uint8Array, _contentType: string): Promise<void> {
    return this.call("write image", async () => {
      const target = this.path(key);
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      await writeFile(tmp, bytes, { flush: true });
      await rename(tmp, target);
    });
  }

  get(key: string): Promise<StoredObject | null> {
    return this.call("read image", async () => {
      try {
        const bytes = new Uint8Array(await readFile(this.path(key)));
        return { bytes, contentType: TYPES[key.split(".").pop() ?? ""] ?? "application/octet-stream" };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    });
  }

  delete(key: string): Promise<void> {
    return this.call("delete image", async () => {
      await rm(this.path(key), { force: true });
    });
  }

  ping(): Promise<void> {
    return this.call("stat directory", async () => {
      await stat(this.root);
    });
  }

  /** Where the files are (for the start-up banner). */
  get directory(): string {
    return join(this.root);
  }
}
