/**
 * Builds adapters from configuration. Shared by the main thread (src/index.ts) and the worker
 * thread, which cannot share objects and so builds its own.
 */
import type { Config } from "./config";
import { AdRepository } from "./services/ad-repository";
import { AmqpConsumer, AmqpPublisher, type AmqpOptions } from "./services/amqp-queue";
import { connectDatabase, type Sql } from "./services/database";
import { ImaggaTagger } from "./services/imagga-tagger";
import type { Logger } from "./services/logger";
import { MailgunMailer } from "./services/mailgun-mailer";
import { S3ImageStorage } from "./services/s3-storage";

/** The database pool and the repository over it. */
export function buildDatabase(config: Config, max: number): { sql: Sql; repo: AdRepository } {
  const sql = connectDatabase({ url: config.databaseUrl, max });
  return { sql, repo: new AdRepository(sql) };
}

/** Image storage. */
export function buildStorage(config: Config) {
  return new S3ImageStorage(config.s3, config.requestTimeoutMs);
}

function amqpOptions(config: Config, log: Logger): AmqpOptions {
  return { url: config.amqpUrl, queue: config.amqpQueue, retryDelaysMs: config.retryDelaysMs, log };
}

/** The intake side's publisher (one long-lived connection). */
export function buildPublisher(config: Config, log: Logger) {
  return new AmqpPublisher(amqpOptions(config, log), config.publishTimeoutMs);
}

/** The worker side's consumer. */
export function buildConsumer(config: Config, log: Logger) {
  return new AmqpConsumer(amqpOptions(config, log), config.workerConcurrency, config.publishTimeoutMs);
}

/** The image tagger. */
export function buildTagger(config: Config) {
  return new ImaggaTagger(config.imagga, config.requestTimeoutMs);
}

/** The mailer. */
export function buildMailer(config: Config) {
  return new MailgunMailer(config.mailgun, config.mailFrom, config.requestTimeoutMs);
}
