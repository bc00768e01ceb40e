/**
 * Test wiring against the real services on this machine: a fresh PostgreSQL database, a unique
 * RabbitMQ queue and S3 bucket per test file (so files never see each other's data), and the
 * Imagga/Mailgun doubles.
 */
import amqp from "amqplib";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig, type Config } from "../../src/config";
import { startImaggaDouble } from "../doubles/imagga";
import { startMailgunDouble } from "../doubles/mailgun";

export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const AMQP_URL = process.env.TEST_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const S3 = {
  endpoint: process.env.TEST_S3_ENDPOINT ?? "http://127.0.0.1:7480",
  accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID ?? "adservice-test-key",
  secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY ?? "adservice-test-secret-0123456789",
};

function suffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates an empty database; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ad_service_test_${suffix()}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/**
 * Deletes the test queues of one file: the work queue and its dead-letter queue. There are no
 * retry queues any more; `_legacyDelays` is ignored (kept so older callers compile).
 */
export async function deleteQueues(queue: string): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  ch.on("error", () => {});
  for (const q of [queue, `${queue}.dead`]) await ch.deleteQueue(q).catch(() => {});
  await conn.close().catch(() => {});
}

/** Number of ready messages in a queue (0 if it does not exist). */
export async function queueDepth(queue: string): Promise<number> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    const q = await ch.checkQueue(queue).catch(() => ({ messageCount: 0 }));
    return q.messageCount;
  } finally {
    await conn.close().catch(() => {});
  }
}

/** The environment a test stack (or the binary under test) runs with. */
export function testEnv(parts: { databaseUrl: string; queue: string; bucket: string; imaggaUrl: string; mailgunUrl: string }, extra: Record<string, string> = {}) {
  return {
    DATABASE_URL: parts.databaseUrl,
    AMQP_URL,
    AMQP_QUEUE: parts.queue,
    S3_ENDPOINT: S3.endpoint,
    S3_BUCKET: parts.bucket,
    S3_ACCESS_KEY_ID: S3.accessKeyId,
    S3_SECRET_ACCESS_KEY: S3.secretAccessKey,
    IMAGGA_API_KEY: "test-imagga-key",
    IMAGGA_API_SECRET: "test-imagga-secret",
    IMAGGA_API_URL: parts.imaggaUrl,
    MAILGUN_API_KEY: "test-mailgun-key",
    MAILGUN_DOMAIN: "mg.example.test",
    MAILGUN_API_URL: parts.mailgunUrl,
    MAIL_FROM: "ad-service <noreply@mg.example.test>",
    PUBLIC_BASE_URL: "http://ads.example.test",
    RETRY_DELAYS: "200ms,400ms,800ms",
    RATE_LIMIT_PER_MINUTE: "0",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

export type StackMode = "real" | "embedded";

/**
 * Everything a test file needs: a database, names, doubles and a matching Config. In "embedded"
 * mode the database, storage and queue are the embedded defaults (PGlite, files and the
 * in-process queue under a temporary DATA_DIR); Imagga and Mailgun stay the doubles, so the same
 * scenarios can run over both.
 */
export async function startTestStack(extra: Record<string, string> = {}, mode: StackMode = "real") {
  const db = mode === "real" ? await createTestDatabase() : { url: "", drop: async () => {} };
  const imagga = startImaggaDouble();
  const mailgun = startMailgunDouble();
  const id = suffix();
  const queue = `test.ads.${id}`;
  const bucket = `test-ads-${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), "ad-service-data-"));
  let env: Record<string, string> = { ...testEnv({ databaseUrl: db.url, queue, bucket, imaggaUrl: imagga.url, mailgunUrl: mailgun.url }, extra), DATA_DIR: dataDir };
  if (mode === "embedded") {
    const { DATABASE_URL, AMQP_URL, S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET, ...rest } = env;
    env = rest;
  }
  const config: Config = loadConfig(env);
  return {
    env,
    config,
    imagga,
    mailgun,
    queue,
    bucket,
    mode,
    async stop() {
      imagga.stop();
      mailgun.stop();
      if (mode === "real") await deleteQueues(queue);
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then returns the last value). */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await fn();
  while (!v && Date.now() < end) {
    await Bun.sleep(everyMs);
    v = await fn();
  }
  return v;
}

/** A multipart body for POST /ads. */
export function adForm(fields: { description?: string; email?: string; image?: Uint8Array | string | null; filename?: string; type?: string }): FormData {
  const f = new FormData();
  if (fields.description !== undefined) f.append("description", fields.description);
  if (fields.email !== undefined) f.append("email", fields.email);
  if (fields.image !== undefined && fields.image !== null) {
    f.append("image", new Blob([fields.image as BlobPart], { type: fields.type ?? "image/jpeg" }), fields.filename ?? "photo.jpg");
  }
  return f;
}
