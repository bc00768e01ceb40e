import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { DependencyError } from "../domain/errors";
import { etagMatches, type ImageStorage, type ObjectInfo, type ObjectNotModified, type ObjectPage, type ObjectStream, type StoredObject } from "./storage";

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
        return { bytes, contentType: contentTypeOf(key) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    });
  }

  stream(key: string, opts: { ifNoneMatch?: string | null } = {}): Promise<ObjectStream | ObjectNotModified | null> {
    return this.call("read image", async () => {
      const path = this.path(key);
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
      const etag = fileEtag(st.size, st.mtimeMs);
      if (etagMatches(opts.ifNoneMatch, etag)) return { notModified: true, etag };
      // Bun opens the file when the body is first pulled and closes it at the end or on cancel.
      // (A FileHandle held by the stream instead would, if a body were ever dropped unread, be
      // closed by the garbage collector, which Bun treats as an uncaught error.) Objects are
      // never rewritten in place (each write renames a new file over the key), and a key's
      // bytes never change once an ad refers to it, so the size and tag stay true.
      return { notModified: false, body: Bun.file(path).stream(), size: st.size, etag, contentType: contentTypeOf(key) };
    });
  }

  list(prefix: string, opts: { cursor?: string | null; limit?: number } = {}): Promise<ObjectPage> {
    const limit = Math.max(1, Math.min(opts.limit ?? 1000, 1000));
    return this.call("list images", async () => {
      // Walk only the directory the prefix lies in (keys are "ads/<id>.<ext>"), then filter.
      const slash = prefix.lastIndexOf("/");
      const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : "";
      const dir = dirKey ? this.path(dirKey.slice(0, -1)) : this.root;
      let keys: string[];
      try {
        keys = (await readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile() && !e.name.endsWith(".tmp"))
          .map((e) => dirKey + join(e.parentPath ?? dir, e.name).slice(dir.length + 1).split(sep).join("/"))
          .filter((k) => k.startsWith(prefix) && (!opts.cursor || k > opts.cursor));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { objects: [], cursor: null };
        throw err;
      }
      keys.sort();
      const page = keys.slice(0, limit);
      const objects: ObjectInfo[] = [];
      for (const key of page) {
        const st = await stat(this.path(key)).catch((err: NodeJS.ErrnoException) => {
          if (err.code === "ENOENT") return null; // deleted meanwhile
          throw err;
        });
        if (st) objects.push({ key, lastModified: st.mtime, size: st.size });
      }
      return { objects, cursor: keys.length > limit ? page[page.length - 1]! : null };
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

function contentTypeOf(key: string): string {
  return TYPES[key.split(".").pop() ?? ""] ?? "application/octet-stream";
}

/** A strong tag from the size and modification time (each write is a new file, renamed into place). */
function fileEtag(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}
