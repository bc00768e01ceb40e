/**
 * ad-service: the composition root. Reads configuration once, builds every adapter, and starts
 * the HTTP API and/or the queue worker (in a worker thread), depending on the role.
 */
import { Elysia } from "elysia";
import pkg from "../package.json";
import { buildAppDeps, buildPublisher, buildStorage, openDatabase } from "./compose";
import { backends, ConfigError, loadConfig, secretsOf, type Config } from "./config";
import { LocalPublisher } from "./services/local-queue";
import type { FromWorker, ToWorker } from "./consumer/worker";
import { createApp } from "./routes/app";
import { healthRoutes, type Check } from "./routes/health";
import { metricsRoutes } from "./routes/metrics";
import { generatePassword } from "./services/admin-auth";
import { migrate } from "./services/database";
import { createLogger, type Logger } from "./services/logger";
import { serviceMetrics, type MetricsSnapshot } from "./services/metrics";

const ROLES = ["all", "api", "worker", "migrate"] as const;
type Role = (typeof ROLES)[number];

const HELP = `ad-service ${pkg.version} — vehicle ads with automatic photo moderation

Usage: ad-service [role] [--help] [--version]

Roles:
  all       (default) HTTP API + queue worker in one process
  api       HTTP API only (submit, status, docs)
  worker    queue worker only (serves /health and /ready on PORT)
  migrate   apply database migrations and exit

Configuration comes from the environment (and a .env file in the working directory).
See the README's configuration table; the API docs are served at /swagger.
`;

function parseArgs(argv: string[]): Role {
  const args = argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (args.includes("--version") || args.includes("-v")) {
    process.stdout.write(`${pkg.version}\n`);
    process.exit(0);
  }
  const role = (args.find((a) => !a.startsWith("-")) ?? "all") as Role;
  const unknown = args.filter((a) => a.startsWith("-"));
  if (!ROLES.includes(role) || unknown.length) {
    process.stderr.write(`unknown argument: ${unknown[0] ?? role}\n\n${HELP}`);
    process.exit(2);
  }
  return role;
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ad-service: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Starts the worker thread; `ready` resolves once it runs (its consumer attaches when the broker allows). */
function startWorker(config: Config, databaseUrl: string, log: Logger, onExit: () => void) {
  const worker = new Worker(new URL("./consumer/worker.ts", import.meta.url));
  let attached = false;
  let stopped: (() => void) | null = null;
  let reqSeq = 0;
  const pendingSnapshots = new Map<number, (s: MetricsSnapshot) => void>();
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      if (m.type === "started") {
        resolve();
      } else if (m.type === "attached") {
        attached = m.attached;
      } else if (m.type === "fatal") {
        reject(new Error(m.message));
      } else if (m.type === "stopped") {
        stopped?.();
      } else if (m.type === "metrics") {
        pendingSnapshots.get(m.reqId)?.(m.snapshot);
        pendingSnapshots.delete(m.reqId);
      }
    };
  });
  worker.addEventListener("error", (ev) => log.error("worker thread error", { err: (ev as ErrorEvent).message }));
  worker.addEventListener("close", onExit);
  worker.postMessage({ type: "start", config, databaseUrl } satisfies ToWorker);
  return {
    ready,
    /** Hands an ad id to the worker thread (the in-process queue). */
    dispatch: (adId: string) => worker.postMessage({ type: "dispatch", adId } satisfies ToWorker),
    isAttached: () => attached,
    /** The worker thread's metrics (empty if it does not answer within a second). */
    snapshot(): Promise<MetricsSnapshot[]> {
      const reqId = ++reqSeq;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pendingSnapshots.delete(reqId);
          resolve([]);
        }, 1000);
        pendingSnapshots.set(reqId, (snap) => {
          clearTimeout(timer);
          resolve([snap]);
        });
        worker.postMessage({ type: "metrics", reqId } satisfies ToWorker);
      });
    },
    async stop(timeoutMs: number) {
      const done = new Promise<void>((r) => (stopped = r));
      worker.postMessage({ type: "stop", timeoutMs } satisfies ToWorker);
      await Promise.race([done, Bun.sleep(timeoutMs + 2000)]);
      worker.terminate();
    },
  };
}

let generatedPassword: string | null = null;

/** ADMIN_PASSWORD, or a strong one generated now and printed once (to stderr, never to the log). */
function adminPasswordFor(config: Config): () => string {
  return () => {
    if (config.adminPassword) return config.adminPassword;
    generatedPassword ??= generatePassword();
    return generatedPassword;
  };
}

/** The human start-up banner (stderr; the JSON "started" line carries the same facts). */
function banner(config: Config, role: Role, port: number, withWorker: boolean, ms: number): string {
  const b = backends(config);
  const row = (label: string, name: string, real: boolean, embedded: string) => `  ${label.padEnd(10)} ${real ? `${name} (real)` : `${name} — ${embedded}`}`;
  const lines = [
    `ad-service ${pkg.version} (${role}) listening on port ${port} after ${ms} ms`,
    row("Database", b.database, !!config.databaseUrl, `${config.dataDir}/pg`),
    row("Storage", b.storage, !!config.s3, `${config.dataDir}/images`),
    row("Queue", b.queue, !!config.amqpUrl, "HTTP side → worker thread"),
    row("Tagger", b.tagger, !!config.imagga, `COCO detector, no network, accepts vehicle ≥ ${config.vehicleMinConfidence}`),
    row("Mail", b.mail, !!config.mailgun, "kept in the dashboard's Outbox, nothing is sent"),
  ];
  if (role !== "worker") {
    lines.push(`  Post an ad ${config.publicBaseUrl}/`, `  API        ${config.publicBaseUrl}/ads  (docs: ${config.publicBaseUrl}/swagger)`, `  Dashboard  ${config.publicBaseUrl}/admin`);
  }
  lines.push(`  Worker     ${withWorker ? `tags ${config.workerConcurrency} ads at a time` : "not in this process"}`);
  if (generatedPassword) lines.push(`  ADMIN_PASSWORD was not set; generated for this run (shown once): ${generatedPassword}`);
  return `\n${lines.join("\n")}\n\n`;
}

async function main() {
  const role = parseArgs(process.argv);
  const config = readConfig();
  let log = createLogger({ level: config.logLevel, secrets: secretsOf(config), base: { role } });
  const started = performance.now();
  if (!config.amqpUrl && (role === "api" || role === "worker")) {
    process.stderr.write(`ad-service: the ${role} role needs AMQP_URL (the in-process queue only joins the two halves of one process)\n`);
    process.exit(2);
  }
  let db: Awaited<ReturnType<typeof openDatabase>>;
  try {
    db = await openDatabase(config, log);
  } catch (err) {
    // A second copy on the same DATA_DIR lands here, with a message naming the holder.
    log.error("cannot open the database", { err });
    process.stderr.write(`ad-service: cannot open the database: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { sql, repo, embedded } = db;
  // The embedded database's URL carries a random password: mask it like a configured one.
  if (embedded) log = createLogger({ level: config.logLevel, secrets: secretsOf({ ...config, databaseUrl: db.url }), base: { role } });
  try {
    const applied = await migrate(sql, log);
    if (role === "migrate") {
      log.info("migrations done", { applied });
      await db.close();
      process.exit(0);
    }
  } catch (err) {
    log.error("cannot prepare the database", { err });
    process.exit(1);
  }

  const storage = buildStorage(config);
  const publisher = buildPublisher(config, log);
  try {
    await storage.ensureReady();
  } catch (err) {
    log.error("cannot reach object storage", { err });
    process.exit(1);
  }

  let shuttingDown = false;
  let worker: ReturnType<typeof startWorker> | null = null;
  const checks: Record<string, Check> = {
    database: () => repo.ping(),
    broker: () => publisher.ping(),
    storage: () => storage.ping(),
  };
  if (role !== "api") {
    worker = startWorker(config, db.url, log, () => {
      if (shuttingDown) return;
      // Never a live process without a consumer: exit so the supervisor restarts us.
      log.error("worker thread exited unexpectedly; exiting");
      process.exit(1);
    });
    checks.consumer = async () => {
      if (!worker!.isAttached()) throw new Error("consumer not attached");
    };
    try {
      await worker.ready;
    } catch (err) {
      log.error("worker could not start", { err });
      process.exit(1);
    }
    if (publisher instanceof LocalPublisher) publisher.sink = worker.dispatch;
  }

  const metrics = serviceMetrics();
  const adminPassword = adminPasswordFor(config);
  const otherSnapshots = async () => (worker ? worker.snapshot() : []);
  const app =
    role === "worker"
      ? new Elysia().use(healthRoutes(checks, () => shuttingDown)).use(metricsRoutes({ metrics, otherSnapshots, queueDepths: () => publisher.depths() }))
      : createApp(
          buildAppDeps(config, {
            repo,
            storage,
            publisher,
            log,
            metrics,
            checks,
            isShuttingDown: () => shuttingDown,
            otherSnapshots,
            version: pkg.version,
            admin: { sql, password: adminPassword() },
          }),
        );
  try {
    app.listen({ port: config.port, reusePort: false, maxRequestBodySize: config.maxImageBytes + 1024 * 1024 });
  } catch (err) {
    log.error("cannot listen", { port: config.port, err });
    process.exit(1);
  }
  const port = app.server?.port ?? config.port;
  log.info("ad-service started", {
    version: pkg.version,
    port,
    api: role === "worker" ? undefined : `${config.publicBaseUrl}/ads`,
    docs: role === "worker" ? undefined : `${config.publicBaseUrl}/swagger`,
    admin: role === "worker" ? undefined : `${config.publicBaseUrl}/admin`,
    worker: worker !== null,
    backends: backends(config),
    startup_ms: Math.round(performance.now() - started),
  });

  process.stderr.write(banner(config, role, port, worker !== null, Math.round(performance.now() - started)));

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info("shutting down", { signal });
    const hardStop = setTimeout(() => {
      log.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    // Readiness goes false first, then the server stops taking connections and finishes in-flight requests.
    await app.stop(false).catch(() => {});
    await worker?.stop(Math.max(1000, config.shutdownTimeoutMs - 5000));
    await publisher.close();
    await db.close();
    clearTimeout(hardStop);
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

await main();
