/**
 * Builds adapters from configuration. Shared by the main thread (src/index.ts) and the worker
 * thread, which cannot share objects and so builds its own.
 */
import type { Config } from "./config";
import type { HandlerDeps } from "./consumer/handle-ad-message";
import type { AdminDeps } from "./routes/admin";
import type { AppDeps } from "./routes/app";
import type { Check } from "./routes/health";
import { AdRepository } from "./services/ad-repository";
import { AdminAuth } from "./services/admin-auth";
import { AdminRepository } from "./services/admin-repository";
import { AmqpConsumer, AmqpPublisher, type AmqpOptions } from "./services/amqp-queue";
import { connectDatabase, type Sql } from "./services/database";
import { failpoints } from "./services/failpoints";
import { ImaggaTagger } from "./services/imagga-tagger";
import type { Logger } from "./services/logger";
import { MailgunMailer } from "./services/mailgun-mailer";
import type { MetricsSnapshot } from "./services/metrics";
import type { ServiceMetrics } from "./services/metrics";
import { RateLimiter } from "./services/rate-limit";
import { S3ImageStorage } from "./services/s3-storage";
import type { ImageStorage } from "./services/storage";

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

/** Everything the message handler needs, from configuration and already-built adapters. */
export function buildHandlerDeps(config: Config, log: Logger, metrics: ServiceMetrics, repo: AdRepository, storage: ImageStorage): HandlerDeps {
  return {
    repo,
    storage,
    tagger: buildTagger(config),
    mailer: buildMailer(config),
    log,
    metrics,
    rule: { vehicleTag: config.vehicleTag, minConfidence: config.vehicleMinConfidence, reviewMinConfidence: config.reviewMinConfidence },
    publicBaseUrl: config.publicBaseUrl,
    retryDelaysMs: config.retryDelaysMs,
    // Longer than one send can take (the request timeout), so a live sender keeps its lease.
    emailLeaseMs: config.requestTimeoutMs * 2 + 10_000,
    failpoint: failpoints(config.failpoints),
  };
}

/** Everything the HTTP app needs, from configuration and already-built adapters. */
export function buildAppDeps(
  config: Config,
  parts: {
    repo: AdRepository;
    storage: ImageStorage;
    publisher: AmqpPublisher;
    log: Logger;
    metrics: ServiceMetrics;
    checks: Record<string, Check>;
    isShuttingDown: () => boolean;
    otherSnapshots?: () => Promise<MetricsSnapshot[]>;
    version: string;
    /** Set to serve the dashboard: the pool and the operators' password. */
    admin?: { sql: Sql; password: string };
  },
): AppDeps {
  return {
    otherSnapshots: async () => [],
    ...parts,
    maxImageBytes: config.maxImageBytes,
    maxImagePixels: config.maxImagePixels,
    rateLimiter: config.rateLimitPerMinute > 0 ? new RateLimiter(config.rateLimitPerMinute, config.rateLimitBurst) : null,
    trustProxy: config.trustProxy,
    queueDepths: () => parts.publisher.depths(),
    failpoint: failpoints(config.failpoints),
    admin: parts.admin ? buildAdminDeps(config, { ...parts, ...parts.admin }) : undefined,
  };
}

/** The dashboard's dependencies. */
export function buildAdminDeps(
  config: Config,
  parts: { sql: Sql; password: string; storage: ImageStorage; publisher: AmqpPublisher; log: Logger; metrics: ServiceMetrics },
): AdminDeps {
  const admin = new AdminRepository(parts.sql);
  return {
    auth: new AdminAuth(parts.sql, parts.password, config.adminSessionTtlMs),
    admin,
    storage: parts.storage,
    moderation: { admin, publisher: parts.publisher, publicBaseUrl: config.publicBaseUrl, log: parts.log, metrics: parts.metrics },
    log: parts.log,
    vehicleTag: config.vehicleTag,
    threshold: config.vehicleMinConfidence,
    secureCookies: config.publicBaseUrl.startsWith("https://"),
    sessionTtlMs: config.adminSessionTtlMs,
    queueDepths: () => parts.publisher.depths(),
  };
}
