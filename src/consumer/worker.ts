/// <reference lib="webworker" />
/**
 * The worker thread: consumes the queue and runs the sweeper. Configuration arrives in the first
 * message from the main thread (this file never reads the environment).
 */
import { buildConsumer, buildDatabase, buildMailer, buildPublisher, buildStorage, buildTagger } from "../compose";
import type { Config } from "../config";
import { createLogger } from "../services/logger";
import { secretsOf } from "../config";
import { handleAdMessage } from "./handle-ad-message";
import { startSweeper } from "./sweeper";

export type ToWorker = { type: "start"; config: Config } | { type: "stop"; timeoutMs: number };
export type FromWorker = { type: "attached"; attached: boolean } | { type: "stopped" } | { type: "fatal"; message: string };

declare const self: Worker;
const post = (m: FromWorker) => self.postMessage(m);
let stop: ((timeoutMs: number) => Promise<void>) | null = null;

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === "start") {
    try {
      stop = await start(msg.config);
    } catch (err) {
      post({ type: "fatal", message: (err as Error).message });
    }
  } else if (msg.type === "stop") {
    await stop?.(msg.timeoutMs).catch(() => {});
    post({ type: "stopped" });
  }
};

async function start(config: Config) {
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config), base: { thread: "worker" } });
  const { sql, repo } = buildDatabase(config, Math.min(config.workerConcurrency + 2, 20));
  const storage = buildStorage(config);
  const consumer = buildConsumer(config, log);
  const publisher = buildPublisher(config, log);
  consumer.onStateChange = (attached) => post({ type: "attached", attached });
  const deps = {
    repo,
    storage,
    tagger: buildTagger(config),
    mailer: buildMailer(config),
    log,
    rule: { vehicleTag: config.vehicleTag, minConfidence: config.vehicleMinConfidence },
    publicBaseUrl: config.publicBaseUrl,
    retryDelaysMs: config.retryDelaysMs,
    emailLeaseMs: config.requestTimeoutMs * 2 + 10_000,
  };
  await consumer.start((m) => handleAdMessage(deps, m));
  const sweeper = startSweeper({ repo, publisher, log }, config.sweepAfterMs, Math.max(1000, Math.min(30_000, Math.round(config.sweepAfterMs / 2))));
  log.info("worker started", { concurrency: config.workerConcurrency, queue: config.amqpQueue });
  return async (timeoutMs: number) => {
    sweeper.stop();
    await consumer.stop(timeoutMs);
    await publisher.close();
    await sql.end({ timeout: 2 });
    log.info("worker stopped");
  };
}
