/**
 * ad-service: the command line. Parses the role, reads configuration once, builds the service
 * (src/service.ts, the composition root), listens, prints the banner, and stops on a signal.
 */
import pkg from "../package.json";
import { backends, ConfigError, loadConfig, secretsOf, type Config } from "./config";
import { buildService, migrateOnly, StartError, type Role as ServiceRole, type Service } from "./service";
import { generatePassword } from "./admin/auth";
import { operatorCli } from "./admin/operators-cli";
import { createLogger, type Logger } from "./platform/logger";

type Role = ServiceRole;

const ROLES = ["all", "api", "worker", "migrate"] as const;
type CliRole = (typeof ROLES)[number];

const HELP = `ad-service ${pkg.version} — vehicle ads with automatic photo moderation

Usage: ad-service [role] [--help] [--version]
       ad-service operator <add|list|disable|enable|reset-password> …   (ad-service operator --help)

Roles:
  all       (default) HTTP API + queue worker in one process
  api       HTTP API only (submit, status, docs)
  worker    queue worker only (serves /health and /ready on PORT)
  migrate   apply database migrations and exit

Commands:
  operator  manage the dashboard's operators on the configured database, then exit

Configuration comes from the environment (and a .env file in the working directory).
See the README's configuration table; the API docs are served at /swagger.
`;

function parseArgs(argv: string[]): CliRole {
  const args = argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (args.includes("--version") || args.includes("-v")) {
    process.stdout.write(`${pkg.version}\n`);
    process.exit(0);
  }
  const role = (args.find((a) => !a.startsWith("-")) ?? "all") as CliRole;
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
  if (process.argv[2] === "operator") {
    const config = readConfig();
    // The command's own output is on stdout (a generated password among it); log lines go to stderr.
    const log = createLogger({ level: config.logLevel, secrets: secretsOf(config), base: { role: "operator" }, write: (line) => process.stderr.write(line + "\n") });
    process.exit(await operatorCli(process.argv.slice(3), config, log));
  }
  const role = parseArgs(process.argv);
  const config = readConfig();
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config), base: { role } });
  const started = performance.now();
  if (!config.amqpUrl && (role === "api" || role === "worker")) {
    process.stderr.write(`ad-service: the ${role} role needs AMQP_URL (the in-process queue only joins the two halves of one process)\n`);
    process.exit(2);
  }
  if (role === "migrate") {
    try {
      const applied = await migrateOnly(config, log);
      log.info("migrations done", { applied });
      process.exit(0);
    } catch (err) {
      fail(log, err);
    }
  }

  let service: Service | undefined;
  try {
    service = await buildService(config, {
      role: role as Role,
      log,
      version: pkg.version,
      adminPassword: adminPasswordFor(config)(),
      // Computed here, in the entry file: see startWorker.
      workerUrl: new URL("./consumer/worker.ts", import.meta.url),
      onWorkerExit: () => {
        // Never a live process without a consumer: exit so the supervisor restarts us.
        (service?.log ?? log).error("worker thread exited unexpectedly; exiting");
        process.exit(1);
      },
    });
  } catch (err) {
    fail(log, err);
  }
  let port: number;
  try {
    port = service.listen();
  } catch (err) {
    service.log.error("cannot listen", { port: config.port, err });
    process.exit(1);
  }
  const withWorker = service.worker !== null;
  service.log.info("ad-service started", {
    version: pkg.version,
    port,
    api: role === "worker" ? undefined : `${config.publicBaseUrl}/ads`,
    docs: role === "worker" ? undefined : `${config.publicBaseUrl}/swagger`,
    admin: role === "worker" ? undefined : `${config.publicBaseUrl}/admin`,
    worker: withWorker,
    backends: backends(config),
    startup_ms: Math.round(performance.now() - started),
  });

  process.stderr.write(banner(config, role, port, withWorker, Math.round(performance.now() - started)));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.log.info("shutting down", { signal });
    const hardStop = setTimeout(() => {
      service.log.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    await service.stop(config.shutdownTimeoutMs);
    clearTimeout(hardStop);
    service.log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** A start-up step failed: say which, plainly, and exit 1. */
function fail(log: Logger, err: unknown): never {
  if (err instanceof StartError) {
    log.error(err.message, { step: err.step, err: err.cause });
    if (err.step === "database") process.stderr.write(`ad-service: ${err.message}\n`);
  } else log.error("start-up failed", { err });
  process.exit(1);
}

await main();
