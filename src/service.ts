/**
 * The composition root: builds one running service from configuration — the database (migrated),
 * storage, the intake publisher, the worker thread when this copy consumes, the health checks and
 * the HTTP app for its role. `src/index.ts` (the CLI) and the tests both build through here.
 */
import { Elysia } from "elysia";
import { buildAppDeps, buildPublisher, buildStorage, openDatabase, posterKeys, type MainDatabase } from "./compose";
import { secretsOf, type Config } from "./config";
import { startWorker, type WorkerClient } from "./consumer/worker-client";
import { createApp } from "./routes/app";
import { healthRoutes, type Check } from "./routes/health";
import { metricsRoutes } from "./routes/metrics";
import { migrate } from "./database/database";
import type { Logger } from "./platform/logger";
import { serviceMetrics } from "./platform/metrics";

export type Role = "all" | "api" | "worker";

/** A start-up step that failed; `step` says which, for the CLI's message and exit code. */
export class StartError extends Error {
  constructor(
    readonly step: "database" | "migrations" | "storage" | "worker",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StartError";
  }
}

export interface ServiceOptions {
  role: Role;
  log: Logger;
  version: string;
  /** The dashboard's password (served by the `all` and `api` roles). */
  adminPassword: string;
  /** Start the worker thread (default: unless the role is `api`). Tests build the HTTP side alone. */
  withWorker?: boolean;
  /** worker.ts's URL, computed in the entry file (see startWorker). Needed when a worker runs. */
  workerUrl?: URL;
  /** Called if the worker thread dies while the service runs (the CLI exits: never a zombie). */
  onWorkerExit?: () => void;
}

/** Opens the database and applies the migrations; returns what was applied (the `migrate` role). */
export function migrateOnly(config: Config, log: Logger): Promise<number[]> {
  return withMigratedDatabase(config, log, async (_sql, applied) => applied);
}

/**
 * Opens the configured database (DATABASE_URL, or the embedded one under DATA_DIR), applies the
 * migrations, runs `fn` on it and closes it again: the `migrate` role and the `operator` commands.
 */
export async function withMigratedDatabase<T>(config: Config, log: Logger, fn: (sql: MainDatabase["sql"], applied: number[]) => Promise<T>): Promise<T> {
  const db = await openDatabase(config, log).catch((err) => {
    throw new StartError("database", `cannot open the database: ${(err as Error).message}`, { cause: err });
  });
  try {
    return await fn(db.sql, await migrate(db.sql, log));
  } finally {
    await db.close();
  }
}

export async function buildService(config: Config, opts: ServiceOptions) {
  let log = opts.log;
  const db: MainDatabase = await openDatabase(config, log).catch((err) => {
    // A second copy on the same DATA_DIR lands here, with a message naming the holder.
    throw new StartError("database", `cannot open the database: ${(err as Error).message}`, { cause: err });
  });
  // The embedded database's URL carries a random password: mask it like a configured one.
  if (db.embedded) log = log.withSecrets(secretsOf({ ...config, databaseUrl: db.url }));
  try {
    await migrate(db.sql, log);
  } catch (err) {
    await db.close();
    throw new StartError("migrations", `cannot prepare the database: ${(err as Error).message}`, { cause: err });
  }
  const storage = buildStorage(config);
  const publisher = buildPublisher(config, log);
  try {
    await storage.ensureReady();
  } catch (err) {
    await db.close();
    throw new StartError("storage", `cannot reach object storage: ${(err as Error).message}`, { cause: err });
  }

  let shuttingDown = false;
  let worker: WorkerClient | null = null;
  const checks: Record<string, Check> = {
    database: () => db.repo.ping(),
    broker: () => publisher.ping(),
    storage: () => storage.ping(),
  };
  if (opts.withWorker ?? opts.role !== "api") {
    if (!opts.workerUrl) throw new StartError("worker", "no worker URL given");
    const w = startWorker(opts.workerUrl, config, db.url, log, () => {
      if (!shuttingDown) opts.onWorkerExit?.();
    });
    worker = w;
    checks.consumer = async () => {
      if (!w.isAttached()) throw new Error("consumer not attached");
    };
    try {
      await w.ready;
    } catch (err) {
      throw new StartError("worker", `worker could not start: ${(err as Error).message}`, { cause: err });
    }
    // The in-process queue's transport: published ids go to the worker thread.
    publisher.bind?.(w.dispatch);
  }

  const metrics = serviceMetrics();
  const otherSnapshots = async () => (worker ? worker.snapshot() : []);
  const isShuttingDown = () => shuttingDown;
  const appDeps =
    opts.role === "worker"
      ? null
      : buildAppDeps(config, {
          repo: db.repo,
          storage,
          publisher,
          log,
          metrics,
          checks,
          isShuttingDown,
          otherSnapshots,
          version: opts.version,
          sql: db.sql,
          keys: posterKeys(config),
          admin: { sql: db.sql, password: opts.adminPassword },
        });
  // The bootstrap operator (`admin`, ADMIN_PASSWORD), in the background: its argon2id hashing
  // takes a few hundred milliseconds that the start-up should not wait for; a sign-in waits for it
  // (and tries again should this fail).
  void appDeps?.admin?.auth.ready().catch((err) => log.warn("could not prepare the bootstrap operator; retrying at the first sign-in", { err }));
  const app = appDeps
    ? createApp(appDeps)
    : new Elysia().use(healthRoutes(checks, isShuttingDown)).use(metricsRoutes({ metrics, otherSnapshots, queueDepths: () => publisher.depths() }));

  return {
    app,
    log,
    db,
    sql: db.sql,
    repo: db.repo,
    storage,
    publisher,
    metrics,
    worker,
    /** Listens on PORT (0: any free port); returns the port. */
    listen(): number {
      app.listen({ port: config.port, reusePort: false, maxRequestBodySize: config.maxImageBytes + 1024 * 1024 });
      return app.server?.port ?? config.port;
    },
    /**
     * Graceful stop: readiness goes false, the server stops taking connections and finishes
     * in-flight requests, the worker drains (bounded), connections close.
     */
    async stop(timeoutMs: number): Promise<void> {
      shuttingDown = true;
      if (app.server) await app.stop(false).catch(() => {});
      await worker?.stop(Math.max(1000, timeoutMs - 5000));
      await publisher.close();
      await db.close();
    },
  };
}

export type Service = Awaited<ReturnType<typeof buildService>>;
