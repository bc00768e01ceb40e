/** Object storage for ad images (S3 in production). Keys are derived from ad ids, never from client input. */
export interface StoredObject {
  bytes: Uint8Array;
  contentType: string;
}

/** An object being read: its metadata, and its bytes as a stream (consume it or cancel it). */
export interface ObjectStream {
  notModified: false;
  body: ReadableStream<Uint8Array>;
  /** Bytes in the body. */
  size: number;
  /** A strong entity tag, quoted (`"..."`), the same for the same bytes under the same key. */
  etag: string;
  contentType: string;
}

/** The answer to a conditional read whose entity tag matched: no body was opened. */
export interface ObjectNotModified {
  notModified: true;
  etag: string;
}

export interface ObjectInfo {
  key: string;
  lastModified: Date;
  size: number;
}

export interface ObjectPage {
  objects: ObjectInfo[];
  /** Pass as `cursor` to get the next page; null after the last page. */
  cursor: string | null;
}

export interface ImageStorage {
  /** Creates the bucket (or folder) if it does not exist. */
  ensureReady(): Promise<void>;
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The object, or null if there is none under `key`. */
  get(key: string): Promise<StoredObject | null>;
  /**
   * The object as a stream, or null if there is none under `key`. With `ifNoneMatch` (an
   * If-None-Match header value) and a matching entity tag, no body is opened: `notModified`.
   * The call resolves once the metadata is known; the body is read as the caller pulls it.
   */
  stream(key: string, opts?: { ifNoneMatch?: string | null }): Promise<ObjectStream | ObjectNotModified | null>;
  /**
   * One page of the objects whose key starts with `prefix`, in key order (at most `limit`,
   * default 1000). Partly written objects (temporary files) are never listed.
   */
  list(prefix: string, opts?: { cursor?: string | null; limit?: number }): Promise<ObjectPage>;
  /** Deletes the object; deleting a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Throws if the storage cannot be reached. */
  ping(): Promise<void>;
}

/**
 * The entity tags of an If-None-Match header value (RFC 9110 §13.1.2), with `W/` dropped (the
 * comparison is weak); `["*"]` for `*`; empty when there is none or it is malformed.
 */
export function parseIfNoneMatch(header: string | null | undefined): string[] {
  if (!header) return [];
  if (header.trim() === "*") return ["*"];
  const tags = header.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return tags.map((t) => (t.startsWith("W/") ? t.slice(2) : t));
}

/** Whether an If-None-Match header value matches this (strong, quoted) entity tag. */
export function etagMatches(header: string | null | undefined, etag: string): boolean {
  const tags = parseIfNoneMatch(header);
  return tags.includes("*") || tags.includes(etag);
}
