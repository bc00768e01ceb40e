import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { S3Config } from "../config";
import { DependencyError } from "../domain/errors";
import { etagMatches, parseIfNoneMatch, type ImageStorage, type ObjectNotModified, type ObjectPage, type ObjectStream, type StoredObject } from "./storage";

/** ImageStorage on any S3-compatible server (AWS, Ceph RGW, ...). The bucket stays private. */
export class S3ImageStorage implements ImageStorage {
  private readonly client: S3Client;

  constructor(
    private readonly cfg: S3Config,
    private readonly timeoutMs = 30_000,
  ) {
    this.client = new S3Client({
      endpoint: cfg.endpoint,
      region: cfg.region,
      forcePathStyle: cfg.forcePathStyle,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
      // Flexible checksums corrupt or fail uploads on Ceph-based servers (see s3-compat notes).
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 2,
    });
  }

  private async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await fn(AbortSignal.timeout(this.timeoutMs));
    } catch (err) {
      throw toStorageError(what, err);
    }
  }

  async ensureReady(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.cfg.bucket }), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
      return;
    } catch (err) {
      const status = (err as S3ServiceException).$metadata?.httpStatusCode;
      if (status !== 404) throw toStorageError("head bucket", err);
    }
    await this.call("create bucket", async (signal) => {
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.cfg.bucket }), { abortSignal: signal });
      } catch (err) {
        const name = (err as Error).name;
        // Another copy created it between our HEAD and CREATE: fine.
        if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw err;
      }
    });
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.call("put object", (signal) =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, ContentType: contentType }),
        { abortSignal: signal },
      ),
    );
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const signal = AbortSignal.timeout(this.timeoutMs);
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }), { abortSignal: signal });
      const bytes = await out.Body!.transformToByteArray();
      return { bytes, contentType: out.ContentType ?? "application/octet-stream" };
    } catch (err) {
      const e = err as S3ServiceException;
      if (e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return null;
      throw toStorageError("get object", err);
    }
  }

  async stream(key: string, opts: { ifNoneMatch?: string | null } = {}): Promise<ObjectStream | ObjectNotModified | null> {
    // One tag (what browsers send) goes to the server, which then answers 304 without a body;
    // a list of tags, or `*`, is compared here once the object's tag is known.
    const tags = parseIfNoneMatch(opts.ifNoneMatch);
    const conditional = tags.length === 1 && tags[0] !== "*" ? tags[0] : undefined;
    // The request timeout covers the wait for the headers only: the body is pulled at the
    // client's pace, with its own timeout per read (below).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no response within ${this.timeoutMs} ms`)), this.timeoutMs);
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: key, IfNoneMatch: conditional }), { abortSignal: abort.signal });
    } catch (err) {
      const e = err as S3ServiceException;
      const status = e.$metadata?.httpStatusCode;
      if (status === 304 && conditional) return { notModified: true, etag: conditional };
      if (e.name === "NoSuchKey" || status === 404) return null;
      throw toStorageError("get object", err);
    } finally {
      clearTimeout(timer);
    }
    const body = out.Body!.transformToWebStream() as ReadableStream<Uint8Array>;
    const etag = out.ETag ?? `"${key}-${out.ContentLength ?? 0}"`;
    if (etagMatches(opts.ifNoneMatch, etag)) {
      await body.cancel().catch(() => {});
      abort.abort();
      return { notModified: true, etag };
    }
    return {
      notModified: false,
      body: withReadTimeout(body, this.timeoutMs, () => abort.abort()),
      size: out.ContentLength ?? 0,
      etag,
      contentType: out.ContentType ?? "application/octet-stream",
    };
  }

  async list(prefix: string, opts: { cursor?: string | null; limit?: number } = {}): Promise<ObjectPage> {
    const limit = Math.max(1, Math.min(opts.limit ?? 1000, 1000));
    const out = await this.call("list objects", (signal) =>
      this.client.send(
        new ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: prefix, MaxKeys: limit, ContinuationToken: opts.cursor ?? undefined }),
        { abortSignal: signal },
      ),
    );
    return {
      objects: (out.Contents ?? []).map((o) => ({ key: o.Key!, lastModified: o.LastModified ?? new Date(0), size: o.Size ?? 0 })),
      cursor: out.IsTruncated && out.NextContinuationToken ? out.NextContinuationToken : null,
    };
  }

  async delete(key: string): Promise<void> {
    await this.call("delete object", (signal) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.cfg.bucket, Key: key }), { abortSignal: signal }),
    );
  }

  async ping(): Promise<void> {
    await this.call("head bucket", (signal) =>
      this.client.send(new HeadBucketCommand({ Bucket: this.cfg.bucket }), { abortSignal: signal }),
    );
  }
}

/**
 * `body`, failing (and calling `onTimeout`, which drops the connection) when one read from the
 * server takes longer than `ms`. Reads happen only when the consumer pulls, so a slow client
 * never trips it; a stalled server does.
 */
function withReadTimeout(body: ReadableStream<Uint8Array>, ms: number, onTimeout: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DependencyError("storage", `object body stalled for ${ms} ms`, true, "timeout")), ms);
      });
      try {
        const { value, done } = await Promise.race([reader.read(), timeout]);
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        onTimeout();
        reader.cancel(err).catch(() => {});
        controller.error(err);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason).catch(() => {});
    },
  });
}

function toStorageError(what: string, err: unknown): DependencyError {
  const e = err as S3ServiceException & { code?: string };
  const status = e.$metadata?.httpStatusCode;
  // 5xx, throttling, timeouts and network errors are worth retrying; 4xx (bad credentials,
  // missing bucket, access denied) need an operator.
  const transient = status === undefined || status >= 500 || status === 429 || status === 408 || e.name === "SlowDown";
  const reason = status ? `http_${status}` : (e.code ?? e.name ?? "network");
  return new DependencyError("storage", `${what} failed: ${e.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${e.message}`, transient, reason, {
    cause: err,
  });
}
