/**
 * Builds the real application in-process (no socket) against the test stack's services, through
 * the same composition root as the binary (src/service.ts), without the worker thread: tests that
 * need a consumer run one in-process.
 */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../../src/config";
import { buildService } from "../../src/service";
import { silentLogger, type Logger } from "../../src/platform/logger";

export const ADMIN_TEST_PASSWORD = "correct horse battery staple";

/** The app over the configured backends: real ones, or the embedded defaults where unset. */
export async function buildTestApp(config: Config, log: Logger = silentLogger) {
  const service = await buildService(config, { role: "api", withWorker: false, log, version: "test", adminPassword: ADMIN_TEST_PASSWORD });
  const { app, sql, repo, storage, publisher, metrics } = service;
  const s3 = config.s3
    ? new S3Client({
        endpoint: config.s3.endpoint,
        region: config.s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
      })
    : null;
  return {
    app,
    sql,
    repo,
    storage,
    publisher,
    metrics,
    /** Keys currently stored (in the bucket, or under DATA_DIR/images). */
    async objectKeys(): Promise<string[]> {
      if (s3) {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: config.s3!.bucket }));
        return (out.Contents ?? []).map((o) => o.Key!);
      }
      const files = await readdir(join(config.dataDir, "images", "ads")).catch(() => [] as string[]);
      return files.filter((f) => !f.endsWith(".tmp")).map((f) => `ads/${f}`);
    },
    async close() {
      await service.stop(5000);
      s3?.destroy();
    },
  };
}
