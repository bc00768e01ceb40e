/** Builds the real application in-process (no socket) against the test stack's services. */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { buildAppDeps, buildPublisher, buildStorage, openDatabase } from "../../src/compose";
import type { Config } from "../../src/config";
import { createApp } from "../../src/routes/app";
import { migrate } from "../../src/services/database";
import { silentLogger, type Logger } from "../../src/services/logger";
import { serviceMetrics } from "../../src/services/metrics";

export const ADMIN_TEST_PASSWORD = "correct horse battery staple";

/** The app over the configured backends: real ones, or the embedded defaults where unset. */
export async function buildTestApp(config: Config, log: Logger = silentLogger) {
  const { sql, repo, embedded } = await openDatabase(config, log);
  await migrate(sql);
  const storage = buildStorage(config);
  await storage.ensureReady();
  const publisher = buildPublisher(config, log);
  const checks = { database: () => repo.ping(), broker: () => publisher.ping(), storage: () => storage.ping() };
  const metrics = serviceMetrics();
  const app = createApp(
    buildAppDeps(config, { repo, storage, publisher, log, metrics, checks, isShuttingDown: () => false, version: "test", admin: { sql, password: ADMIN_TEST_PASSWORD } }),
  );
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
      await publisher.close();
      await sql.end();
      await embedded?.close();
      s3?.destroy();
    },
  };
}
