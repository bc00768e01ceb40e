/** Object storage for ad images (S3 in production). Keys are derived from ad ids, never from client input. */
export interface StoredObject {
  bytes: Uint8Array;
  contentType: string;
}

export interface ImageStorage {
  /** Creates the bucket (or folder) if it does not exist. */
  ensureReady(): Promise<void>;
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The object, or null if there is none under `key`. */
  get(key: string): Promise<StoredObject | null>;
  delete(key: string): Promise<void>;
  /** Throws if the storage cannot be reached. */
  ping(): Promise<void>;
}
