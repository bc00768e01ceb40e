import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { S3Config } from "../config";
import { DependencyError } from "./errors";
import type { ImageStorage, StoredObject } from "./storage";

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
