/**
 * Configuration: parsed and validated once, from an environment map, at start.
 * Only src/index.ts passes `process.env` in; everything else receives a `Config`.
 * The value parsers it uses are in ./values.ts.
 * (Over 300 lines because it is one table: every setting with its default, its check and its
 * message, so every problem is listed at once and the README's table has one place to match.)
 */
import { isLang, type Lang } from "../i18n";
import { parseFailpoints } from "../platform/failpoints";
import { amqpUrlList, isUrl, MAX_TIMER_MS, parseDurationMs, queueName, queueType, splitAmqpUrls } from "./values";

export { parseDurationMs, splitAmqpUrls } from "./values";

export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export interface ImaggaConfig {
  apiKey: string;
  apiSecret: string;
  apiUrl: string;
  maxConcurrency: number;
}

/** Which of the five external systems are real and which are the embedded defaults. */
export function backends(config: Config) {
  return {
    database: config.databaseUrl ? "PostgreSQL" : "embedded PostgreSQL (PGlite)",
    storage: config.s3 ? "S3" : "files",
    queue: config.amqpUrl ? "RabbitMQ" : "in-process",
    tagger: config.imagga ? "Imagga" : "offline detector",
    mail: config.mailgun ? "Mailgun" : "outbox",
  } as const;
}

/**
 * The acceptance threshold of the offline detector when VEHICLE_MIN_CONFIDENCE is not set: its
 * scores are detector confidences, lower than Imagga's (see the README's measured accuracy).
 * Kept equal to OFFLINE_MIN_CONFIDENCE in tagger/offline.ts (a test checks it).
 */
export const OFFLINE_DEFAULT_MIN_CONFIDENCE = 25;

export interface MailgunConfig {
  apiKey: string;
  domain: string;
  apiUrl: string;
}

export interface Config {
  port: number;
  publicBaseUrl: string;
  /** The language of pages, messages and e-mails when neither the person nor their browser chooses one (DEFAULT_LANGUAGE: en or fa). */
  defaultLanguage: Lang;
  /** Where the embedded defaults keep their data (database, images, lock). */
  dataDir: string;
  /** null: the embedded PostgreSQL (PGlite) under DATA_DIR. */
  databaseUrl: string | null;
  /** Connections of the HTTP side's PostgreSQL pool (the worker thread sizes its own pool). */
  databasePoolSize: number;
  /** How long one database call may take before it fails as transient (see withDatabaseErrors). */
  databaseTimeoutMs: number;
  /** null: the in-process queue. One RabbitMQ node URL, or several (a cluster's nodes) separated by commas. */
  amqpUrl: string | null;
  amqpQueue: string;
  /** Type of the work and dead-letter queues when they are created (AMQP_QUEUE_TYPE; default quorum). */
  amqpQueueType: "quorum" | "classic";
  /** AMQP_QUEUE_TYPE was set: an existing queue of the other type is an error, never used as it is. */
  amqpQueueTypeExplicit: boolean;
  /** null: image files under DATA_DIR/images. */
  s3: S3Config | null;
  /** null: the offline vehicle detector. */
  imagga: ImaggaConfig | null;
  /** null: the outbox (e-mails are stored and shown in the dashboard, never sent). */
  mailgun: MailgunConfig | null;
  mailFrom: string;
  vehicleTag: string;
  vehicleMinConfidence: number;
  /** Optional human-review band: vehicle confidence in [this, vehicleMinConfidence) waits for an operator. */
  reviewMinConfidence: number | undefined;
  workerConcurrency: number;
  maxImageBytes: number;
  /** Backoff delays between attempts of one ad; its length is the retry budget. */
  retryDelaysMs: number[];
  /** Work the broker accepted and has not seen done for this long is dispatched again (lost in the broker). */
  sweepAfterMs: number;
  /** Processing and e-mail leases: renewed every sixth of this by a live worker, taken back when they run out. */
  leaseMs: number;
  /** An ad whose processing started this many times without finishing fails with reason `crashed`. */
  maxProcessingStarts: number;
  requestTimeoutMs: number;
  publishTimeoutMs: number;
  shutdownTimeoutMs: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Largest accepted image area (width × height), against decompression bombs. */
  maxImagePixels: number;
  /** POST /ads per client per minute (0 = off), and the burst allowed above that rate. */
  rateLimitPerMinute: number;
  rateLimitBurst: number;
  /** Take the client address from the last X-Forwarded-For hop (behind your own proxy only). */
  trustProxy: boolean;
  /** Fault-injection points, for the fault tests only (see platform/failpoints.ts). */
  failpoints: Record<string, string>;
  /** The operators' password; undefined means "generate one at start and print it once". */
  adminPassword: string | undefined;
  adminSessionTtlMs: number;
  /** The key of posters' manage links and address hashes; null: generated into DATA_DIR/manage-link.secret. */
  manageLinkSecret: string | null;
  /** A photo within this many bits (of 64) of an earlier ad's counts as the same photo (REPOST_MAX_DISTANCE, 0 turns the check off). */
  repostMaxDistance: number;
  /** How far back (days) a new photo is compared with earlier ads' (REPOST_WINDOW_DAYS). */
  repostWindowDays: number;
  /** After this many days a decided ad's address is replaced by its hash, and a withdrawn ad's row is deleted (RETENTION_DAYS). */
  retentionDays: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates every setting; throws one ConfigError listing all problems. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback?: string): string => {
    const v = env[name]?.trim();
    if (v) return v;
    if (fallback !== undefined) return fallback;
    problems.push(`${name} is required`);
    return "";
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`${name} must be a number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name} must be true or false`);
    return fallback;
  };
  /**
   * A duration setting. It must be positive unless `allowZero` (pass that only where 0 has a
   * meaning, and say which in a comment at the call; no duration has one today: a zero timeout,
   * sweep age or session lifetime would only break things). `timer`: the value is waited for with
   * setTimeout, which fires at once beyond 2^31-1 ms, so longer values are refused.
   */
  const duration = (name: string, fallback: string, opts: { allowZero?: boolean; timer?: boolean } = {}): number => {
    const raw = env[name]?.trim() || fallback;
    const ms = parseDurationMs(raw);
    if (ms === undefined || ms < 0) {
      problems.push(`${name} must be a duration such as 500ms, 5s or 2m`);
      return parseDurationMs(fallback)!;
    }
    if (ms === 0 && !opts.allowZero) {
      problems.push(`${name} must be greater than 0 (a duration such as 500ms, 5s or 2m)`);
      return parseDurationMs(fallback)!;
    }
    if (opts.timer && ms > MAX_TIMER_MS) {
      problems.push(`${name} must be at most ${Math.floor(MAX_TIMER_MS / 3_600_000)}h (${MAX_TIMER_MS}ms)`);
      return parseDurationMs(fallback)!;
    }
    return ms;
  };
  const url = (name: string, fallback?: string): string => {
    const v = str(name, fallback);
    if (v && !isUrl(v)) problems.push(`${name} must be an absolute URL`);
    return v.replace(/\/+$/, "");
  };

  const port = int("PORT", 3000, 0, 65535);
  const retryRaw = env.RETRY_DELAYS?.trim() || "5s,30s,2m,10m,30m";
  const retryDelaysMs = retryRaw.split(",").map((s) => parseDurationMs(s));
  if (retryDelaysMs.some((d) => d === undefined || d < 1) || retryDelaysMs.length > 20) {
    problems.push("RETRY_DELAYS must be a comma-separated list of at most 20 durations, e.g. 5s,30s,2m");
  }
  const logLevel = (env.LOG_LEVEL?.trim() || "info") as Config["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    problems.push("LOG_LEVEL must be one of debug, info, warn, error");
  }

  // Each external system is either fully configured (real) or not at all (embedded default).
  const group = (names: string[], anchor: string): boolean => {
    const set = names.filter((n) => env[n]?.trim());
    if (set.length === 0) return false;
    for (const n of names) if (!env[n]?.trim()) problems.push(`${n} is required when ${set.includes(anchor) ? anchor : set[0]} is set`);
    return true;
  };
  const hasS3 = group(["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"], "S3_ENDPOINT");
  const hasImagga = group(["IMAGGA_API_KEY", "IMAGGA_API_SECRET"], "IMAGGA_API_KEY");
  const hasMailgun = group(["MAILGUN_API_KEY", "MAILGUN_DOMAIN"], "MAILGUN_API_KEY");
  const language = (name: string, fallback: Lang): Lang => {
    const v = env[name]?.trim().toLowerCase();
    if (!v) return fallback;
    if (!isLang(v)) problems.push(`${name} must be en or fa`);
    return isLang(v) ? v : fallback;
  };
  const optionalUrl = (name: string): string | null => {
    const v = env[name]?.trim();
    if (!v) return null;
    if (!isUrl(v)) problems.push(`${name} must be an absolute URL`);
    return v;
  };

  const config: Config = {
    port,
    publicBaseUrl: url("PUBLIC_BASE_URL", `http://localhost:${port}`),
    defaultLanguage: language("DEFAULT_LANGUAGE", "en"),
    dataDir: str("DATA_DIR", "./data"),
    databaseUrl: optionalUrl("DATABASE_URL"),
    databasePoolSize: int("DATABASE_POOL_SIZE", 10, 1, 1000),
    databaseTimeoutMs: duration("DATABASE_TIMEOUT", "10s", { timer: true }),
    amqpUrl: amqpUrlList(env.AMQP_URL, problems),
    amqpQueue: queueName(str("AMQP_QUEUE", "ads"), problems),
    amqpQueueType: queueType(env.AMQP_QUEUE_TYPE, problems),
    amqpQueueTypeExplicit: !!env.AMQP_QUEUE_TYPE?.trim(),
    s3: hasS3
      ? {
          endpoint: url("S3_ENDPOINT", ""),
          region: str("S3_REGION", "us-east-1"),
          bucket: str("S3_BUCKET", "ads"),
          accessKeyId: str("S3_ACCESS_KEY_ID", ""),
          secretAccessKey: str("S3_SECRET_ACCESS_KEY", ""),
          forcePathStyle: bool("S3_FORCE_PATH_STYLE", true),
        }
      : null,
    imagga: hasImagga
      ? {
          apiKey: str("IMAGGA_API_KEY", ""),
          apiSecret: str("IMAGGA_API_SECRET", ""),
          apiUrl: url("IMAGGA_API_URL", "https://api.imagga.com"),
          maxConcurrency: int("IMAGGA_MAX_CONCURRENCY", 3, 1, 1000),
        }
      : null,
    mailgun: hasMailgun
      ? {
          apiKey: str("MAILGUN_API_KEY", ""),
          domain: str("MAILGUN_DOMAIN", ""),
          apiUrl: url("MAILGUN_API_URL", "https://api.mailgun.net"),
        }
      : null,
    mailFrom: "",
    vehicleTag: str("VEHICLE_TAG", "vehicle").toLowerCase(),
    vehicleMinConfidence: num("VEHICLE_MIN_CONFIDENCE", hasImagga ? 50 : OFFLINE_DEFAULT_MIN_CONFIDENCE, 0, 100),
    reviewMinConfidence: env.REVIEW_MIN_CONFIDENCE?.trim() ? num("REVIEW_MIN_CONFIDENCE", 0, 0, 100) : undefined,
    workerConcurrency: int("WORKER_CONCURRENCY", 8, 1, 1000),
    maxImageBytes: int("MAX_IMAGE_BYTES", 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    retryDelaysMs: retryDelaysMs.map((d) => d ?? 1000),
    sweepAfterMs: duration("SWEEP_AFTER", "5m"),
    leaseMs: duration("LEASE", "30s"),
    maxProcessingStarts: int("MAX_PROCESSING_STARTS", 3, 1, 100),
    requestTimeoutMs: duration("REQUEST_TIMEOUT", "30s", { timer: true }),
    publishTimeoutMs: duration("PUBLISH_TIMEOUT", "5s", { timer: true }),
    shutdownTimeoutMs: duration("SHUTDOWN_TIMEOUT_MS", "25000", { timer: true }),
    logLevel,
    maxImagePixels: int("MAX_IMAGE_PIXELS", 50_000_000, 1, 2_000_000_000),
    rateLimitPerMinute: int("RATE_LIMIT_PER_MINUTE", 30, 0, 1_000_000),
    rateLimitBurst: int("RATE_LIMIT_BURST", 10, 1, 1_000_000),
    trustProxy: bool("TRUST_PROXY", false),
    failpoints: {},
    adminPassword: env.ADMIN_PASSWORD?.trim() || undefined,
    manageLinkSecret: env.MANAGE_LINK_SECRET?.trim() || null,
    repostMaxDistance: int("REPOST_MAX_DISTANCE", 12, 0, 32),
    repostWindowDays: int("REPOST_WINDOW_DAYS", 90, 1, 3650),
    retentionDays: int("RETENTION_DAYS", 180, 1, 36500),
    adminSessionTtlMs: duration("ADMIN_SESSION_TTL", "12h"),
  };
  if (config.manageLinkSecret !== null && config.manageLinkSecret.length < 32) problems.push("MANAGE_LINK_SECRET must be at least 32 characters");
  if (config.adminPassword !== undefined && config.adminPassword.length < 12) problems.push("ADMIN_PASSWORD must be at least 12 characters");
  if (config.reviewMinConfidence !== undefined && config.reviewMinConfidence >= config.vehicleMinConfidence) {
    problems.push("REVIEW_MIN_CONFIDENCE must be below VEHICLE_MIN_CONFIDENCE");
  }
  try {
    config.failpoints = parseFailpoints(env.FAILPOINTS ?? "");
  } catch (err) {
    problems.push(`FAILPOINTS: ${(err as Error).message}`);
  }
  config.mailFrom = str("MAIL_FROM", config.mailgun ? `ad-service <noreply@${config.mailgun.domain}>` : "ad-service <noreply@localhost>");
  if (config.mailFrom && /[\r\n]/.test(config.mailFrom)) problems.push("MAIL_FROM must be one line");
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Values that must never be logged; the logger masks them wherever they appear. */
export function secretsOf(config: Config): string[] {
  const out = [config.s3?.secretAccessKey ?? "", config.imagga?.apiSecret ?? "", config.imagga?.apiKey ?? "", config.mailgun?.apiKey ?? "", config.adminPassword ?? "", config.manageLinkSecret ?? ""];
  for (const u of [config.databaseUrl ?? "", ...splitAmqpUrls(config.amqpUrl ?? "")]) {
    try {
      const p = new URL(u).password;
      if (p) out.push(decodeURIComponent(p), p);
    } catch {
      /* not a URL: nothing to mask */
    }
  }
  return out.filter((s) => s.length >= 4);
}
