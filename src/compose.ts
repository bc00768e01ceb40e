/**
 * Builds adapters from configuration. Shared by the main thread (src/index.ts) and the worker
 * thread, which cannot share objects and so builds its own.
 */
import type { Config } from "./config";
import type { DecisionRule } from "./domain/decision";
import { HeldLeases, type HandlerDeps } from "./consumer/handle-ad-message";
import { CircuitBreaker, DEFAULT_BREAKER } from "./platform/circuit-breaker";
import type { AdminDeps } from "./routes/admin";
import type { AppDeps } from "./routes/app";
import type { Check } from "./routes/health";
import { AdRepository } from "./database/ad-repository";
import { AdminAuth } from "./admin/auth";
import { Operators } from "./admin/operators";
import { AdminRepository } from "./database/admin-repository";
import { PosterRepository } from "./database/poster-repository";
import { loadPosterKeys, type PosterKeys } from "./domain/poster-keys";
import { AmqpConsumer, AmqpPublisher, type AmqpOptions } from "./queue/amqp";
import { connectDatabase, type Sql } from "./database/database";
import { failpoints } from "./platform/failpoints";
import { ImaggaTagger } from "./tagger/imagga";
import { Semaphore } from "./platform/semaphore";
import type { Logger } from "./platform/logger";
import { MailgunMailer } from "./mail/mailgun";
import type { MetricsSnapshot } from "./platform/metrics";
import type { ServiceMetrics } from "./platform/metrics";
import { RateLimiter } from "./platform/rate-limit";
import { S3ImageStorage } from "./storage/s3";
import type { ImageStorage } from "./storage/storage";
import type { ImageTagger } from "./tagger/tagger";
import type { Mailer } from "./mail/mailer";
import type { AdConsumer, AdPublisher } from "./queue/queue";
import { FileImageStorage } from "./storage/files";
import { LocalConsumer, LocalPublisher } from "./queue/local";
import { OutboxMailer } from "./mail/outbox";
import type { EmbeddedPostgres } from "./database/embedded";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * This process's lease owner id: `host:pid:random`. The random part tells a restarted process
 * that reuses a pid (pid 1 in a container) from its dead predecessor.
 */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
}

/** Connections the embedded database accepts, and each pool's size (see embedded-postgres.ts). */
const EMBEDDED_MAX_CONNECTIONS = 16;
const EMBEDDED_POOL_MAX = 4;

/** Pool sizes. The embedded database serves every connection from one backend session (one
 *  query at a time), so its pools stay small; a real server gets a pool per thread sized to the work. */
export function poolSize(config: Config, thread: "main" | "worker"): number {
  if (!config.databaseUrl) return EMBEDDED_POOL_MAX;
  return thread === "main" ? config.databasePoolSize : Math.min(inFlight(config) + 2, 24);
}

/** The database pool and the repository over it (`url` overrides the configured one). */
export function buildDatabase(config: Config, max: number, url = config.databaseUrl): { sql: Sql; repo: AdRepository } {
  if (!url) throw new Error("no database URL: start the embedded database first (openDatabase)");
  const sql = connectDatabase({ url, max });
  return { sql, repo: new AdRepository(sql, sql, config.databaseTimeoutMs) };
}

export interface MainDatabase {
  sql: Sql;
  repo: AdRepository;
  url: string;
  embedded: EmbeddedPostgres | null;
  /** Ends every pool (and stops the embedded database, if any). */
  close(): Promise<void>;
}

/**
 * The database for the main thread: the configured PostgreSQL, or the embedded one, started
 * here under DATA_DIR (it then serves the worker thread's pool too, over the same socket).
 *
 * On a real server the public status read (`GET /ads/:id`, the hot path) gets a pool of its own
 * with ONE connection: postgres.js pipelines every concurrent read onto it, so PostgreSQL answers
 * them in batches from one backend. Measured on 2 cores (bench/results/2026-11-29-optimisations.md)
 * this beats spreading the same reads over the main pool; slow dashboard queries on the main pool
 * cannot hold the public reads up, and point reads queued behind each other cost ~0.1 ms each.
 */
export async function openDatabase(config: Config, log: Logger): Promise<MainDatabase> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.databaseUrl;
  if (!url) {
    const { startEmbeddedPostgres } = await import("./database/embedded");
    embedded = await startEmbeddedPostgres({ dir: join(config.dataDir, "pg"), log, maxConnections: EMBEDDED_MAX_CONNECTIONS });
    url = embedded.url;
  }
  const sql = connectDatabase({ url, max: poolSize(config, "main") });
  // The embedded database runs one statement at a time anyway: no second pool there.
  const reads = embedded ? sql : connectDatabase({ url, max: 1 });
  const close = async () => {
    await Promise.all([sql.end({ timeout: 2 }), reads === sql ? null : reads.end({ timeout: 2 })]).catch(() => {});
    await embedded?.close().catch((err) => log.error("closing the embedded database failed", { err }));
  };
  return { sql, repo: new AdRepository(sql, reads, config.databaseTimeoutMs), url, embedded, close };
}

/** The secret behind posters' manage links and address hashes (MANAGE_LINK_SECRET, else DATA_DIR/manage-link.secret). */
export function posterKeys(config: Config): PosterKeys {
  return loadPosterKeys({ secret: config.manageLinkSecret, dataDir: config.dataDir });
}

/** Image storage: S3, or files under DATA_DIR/images. */
export function buildStorage(config: Config): ImageStorage {
  return config.s3 ? new S3ImageStorage(config.s3, config.requestTimeoutMs) : new FileImageStorage(join(config.dataDir, "images"));
}

/** RabbitMQ settings: the node list (AMQP_URL may name several nodes), the queue and its type. */
function amqpOptions(config: Config, url: string, log: Logger): AmqpOptions {
  return { url, queue: config.amqpQueue, queueType: config.amqpQueueType, queueTypeExplicit: config.amqpQueueTypeExplicit, log };
}

/** The intake side's publisher: one long-lived RabbitMQ connection, or the in-process queue. */
export function buildPublisher(config: Config, log: Logger): AdPublisher {
  return config.amqpUrl ? new AmqpPublisher(amqpOptions(config, config.amqpUrl, log), config.publishTimeoutMs) : new LocalPublisher();
}

/**
 * Messages a worker holds at once: twice the tagging concurrency, so that one ad's download,
 * decision and e-mail overlap another's tagging and the tagger (the slow, paid step) never idles.
 */
export function inFlight(config: Config): number {
  return config.workerConcurrency * 2;
}

/** The worker side's consumer: RabbitMQ, or the in-process queue. */
export function buildConsumer(config: Config, log: Logger): AdConsumer {
  return config.amqpUrl
    ? new AmqpConsumer(amqpOptions(config, config.amqpUrl, log), inFlight(config), config.publishTimeoutMs)
    : new LocalConsumer(inFlight(config), log);
}

/** The image tagger: Imagga, or the offline detector (loaded on first use, in the thread that tags). */
export function buildTagger(config: Config, log?: Logger): ImageTagger & { warm?: () => Promise<void> } {
  if (config.imagga) return new ImaggaTagger(config.imagga, config.requestTimeoutMs);
  let loading: Promise<ImageTagger> | null = null;
  const load = () =>
    (loading ??= import("./tagger/offline").then(({ OfflineTagger }) => OfflineTagger.create({ log })).catch((err) => {
      loading = null;
      throw err;
    }));
  return {
    tag: async (bytes, contentType) => (await load()).tag(bytes, contentType),
    warm: async () => {
      await load();
    },
  };
}

/** The mailer: Mailgun, or the outbox. */
export function buildMailer(config: Config, log: Logger): Mailer {
  return config.mailgun ? new MailgunMailer(config.mailgun, config.mailFrom, config.requestTimeoutMs) : new OutboxMailer(log);
}

/**
 * One breaker per provider; when one closes, the work held for it becomes due at once (a failed
 * release is retried by the next close, and held work comes back by itself at each probe time).
 */
function breakersFor(repo: AdRepository, log: Logger, metrics: ServiceMetrics) {
  const make = (name: "storage" | "tagger" | "mailer") => {
    const b = new CircuitBreaker(name, DEFAULT_BREAKER, log);
    metrics.circuitOpen.set(0, { provider: name });
    b.onChange = (open) => metrics.circuitOpen.set(open ? 1 : 0, { provider: name });
    b.onClose = () => void repo.releaseHeld(name).then((n) => n && log.info("held work released", { provider: name, items: n })).catch((err) => log.warn("could not release held work", { provider: name, err }));
    return b;
  };
  return { storage: make("storage"), tagger: make("tagger"), mailer: make("mailer") };
}

/**
 * The one limit on tagging calls in flight per worker: WORKER_CONCURRENCY, and never more than
 * Imagga's plan allows (IMAGGA_MAX_CONCURRENCY). The rest of a message's work (download,
 * decision, e-mail) runs beside it. (The offline detector also runs one photo at a time
 * internally: that is the model's constraint, not a policy.)
 */
export function taggingLimit(config: Pick<Config, "workerConcurrency" | "imagga">): number {
  return config.imagga ? Math.min(config.workerConcurrency, config.imagga.maxConcurrency) : config.workerConcurrency;
}

/** A tagger behind the gate. */
export function gateTagger(tagger: ImageTagger, limit: number): ImageTagger {
  const gate = new Semaphore(limit);
  return { tag: (bytes, contentType) => gate.run(() => tagger.tag(bytes, contentType)) };
}

/** The acceptance rule, from configuration (VEHICLE_TAG, VEHICLE_MIN_CONFIDENCE, REVIEW_MIN_CONFIDENCE). */
export function decisionRule(config: Config): DecisionRule {
  return { vehicleTag: config.vehicleTag, minConfidence: config.vehicleMinConfidence, reviewMinConfidence: config.reviewMinConfidence };
}

/** Everything the message handler needs, from configuration and already-built adapters. */
export function buildHandlerDeps(
  config: Config,
  log: Logger,
  metrics: ServiceMetrics,
  repo: AdRepository,
  storage: ImageStorage,
  tagger: ImageTagger = buildTagger(config, log),
  leases: { owner: string; held: HeldLeases } = { owner: newOwnerId(), held: new HeldLeases() },
  poster?: { posters: PosterRepository; keys: PosterKeys },
): HandlerDeps {
  return {
    manageUrl: poster ? (id) => poster.keys.manageUrl(config.publicBaseUrl, id) : undefined,
    photos: poster ? { ...poster, maxDistance: config.repostMaxDistance, windowDays: config.repostWindowDays } : undefined,
    repo,
    storage,
    tagger: gateTagger(tagger, taggingLimit(config)),
    mailer: buildMailer(config, log),
    log,
    metrics,
    rule: decisionRule(config),
    publicBaseUrl: config.publicBaseUrl,
    retryDelaysMs: config.retryDelaysMs,
    ...leases,
    breakers: breakersFor(repo, log, metrics),
    leaseMs: config.leaseMs,
    maxProcessingStarts: config.maxProcessingStarts,
    failpoint: failpoints(config.failpoints),
  };
}

/** Everything the HTTP app needs, from configuration and already-built adapters. */
export function buildAppDeps(
  config: Config,
  parts: {
    repo: AdRepository;
    storage: ImageStorage;
    publisher: AdPublisher;
    log: Logger;
    metrics: ServiceMetrics;
    checks: Record<string, Check>;
    isShuttingDown: () => boolean;
    otherSnapshots?: () => Promise<MetricsSnapshot[]>;
    version: string;
    /** The main pool, for the posters' side (the public list, the manage pages). */
    sql: Sql;
    /** The secret behind manage links and poster hashes. */
    keys: PosterKeys;
    /** Set to serve the dashboard: the pool and the operators' password. */
    admin?: { sql: Sql; password: string };
  },
): AppDeps {
  const manageUrl = (id: string) => parts.keys.manageUrl(config.publicBaseUrl, id);
  return {
    otherSnapshots: async () => [],
    ...parts,
    manageUrl,
    posters: { posters: new PosterRepository(parts.sql, config.databaseTimeoutMs), keys: parts.keys },
    maxImageBytes: config.maxImageBytes,
    maxImagePixels: config.maxImagePixels,
    publicBaseUrl: config.publicBaseUrl,
    defaultLanguage: config.defaultLanguage,
    rateLimiter: config.rateLimitPerMinute > 0 ? new RateLimiter(config.rateLimitPerMinute, config.rateLimitBurst) : null,
    trustProxy: config.trustProxy,
    queueDepths: () => parts.publisher.depths(),
    failpoint: failpoints(config.failpoints),
    admin: parts.admin ? buildAdminDeps(config, { ...parts, ...parts.admin, manageUrl }) : undefined,
  };
}

/** The dashboard's dependencies. */
export function buildAdminDeps(
  config: Config,
  parts: { sql: Sql; password: string; storage: ImageStorage; publisher: AdPublisher; log: Logger; metrics: ServiceMetrics; manageUrl?: (adId: string) => string },
): AdminDeps {
  const ads = new AdminRepository(parts.sql, config.databaseTimeoutMs);
  const auth = new AdminAuth(parts.sql, parts.password, config.adminSessionTtlMs, config.databaseTimeoutMs, { defaultLang: config.defaultLanguage, log: parts.log });
  return {
    auth,
    operators: new Operators(auth.operators, parts.log),
    defaultLanguage: config.defaultLanguage,
    ads,
    storage: parts.storage,
    moderation: { ads, publisher: parts.publisher, publicBaseUrl: config.publicBaseUrl, manageUrl: parts.manageUrl, log: parts.log, metrics: parts.metrics },
    log: parts.log,
    rule: decisionRule(config),
    secureCookies: config.publicBaseUrl.startsWith("https://"),
    trustProxy: config.trustProxy,
    sessionTtlMs: config.adminSessionTtlMs,
    queueDepths: () => parts.publisher.depths(),
  };
}
