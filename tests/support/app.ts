/** Builds the real application in-process (no socket) against the test stack's services. */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { buildAppDeps, buildDatabase, buildPublisher, buildStorage } from "../../src/compose";
import type { Config } from "../../src/config";
import { createApp } from "../../src/routes/app";
import { migrate } from "../../src/services/database";
import { silentLogger, type Logger } from "../../src/services/logger";
import { serviceMetrics } from "../../src/services/metrics";

export const ADMIN_TEST_PASSWORD = "correct horse battery staple";

export async function buildTestApp(config: Config, log: Logger = silentLogger) {
  const { sql, repo } = buildDatabase(config, 5);
  await migrate(sql);
  const storage = buildStorage(config);
  await storage.ensureReady();
  const publisher = buildPublisher(config, log);
  const checks = { database: () => repo.ping(), broker: () => publisher.ping(), storage: () => storage.ping() };
  const metrics = serviceMetrics();
  const app = createApp(
    buildAppDeps(config, { repo, storage, publisher, log, metrics, checks, isShuttingDown: () => false, version: "test", admin: { sql, password: ADMIN_TEST_PASSWORD } }),
  );
  const s3 = new S3Client({
    endpoint: config.s3.endpoint,
    region: config.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
  });
  return {
    app,
    sql,
    repo,
    storage,
    publisher,
    metrics,
    /** Keys currently in the bucket. */
    async objectKeys(): Promise<string[]> {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: config.s3.bucket }));
      return (out.Contents ?? []).map((o) => o.Key!);
    },
    async close() {
      await publisher.close();
      await sql.end();
      s3.destroy();
    },
  };
}
