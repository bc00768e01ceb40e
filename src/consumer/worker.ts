/// <reference lib="webworker" />
/**
 * The worker thread: consumes the queue and runs the sweeper. Configuration arrives in the first
 * message from the main thread (this file never reads the environment).
 */
import { buildConsumer, buildDatabase, buildHandlerDeps, buildPublisher, buildStorage } from "../compose";
import type { Config } from "../config";
import { createLogger } from "../services/logger";
import { serviceMetrics, type MetricsSnapshot } from "../services/metrics";
import { secretsOf } from "../config";
import { handleAdMessage } from "./handle-ad-message";
import { startSweeper } from "./sweeper";

export type ToWorker = { type: "start"; config: Config } | { type: "stop"; timeoutMs: number } | { type: "metrics"; reqId: number };
export type FromWorker =
  | { type: "started" }
  | { type: "attached"; attached: boolean }
  | { type: "stopped" }
  | { type: "fatal"; message: string }
  | { type: "metrics"; reqId: number; snapshot: MetricsSnapshot };

declare const self: Worker;
const post = (m: FromWorker) => self.postMessage(m);
let stop: ((timeoutMs: number) => Promise<void>) | null = null;
const metrics = serviceMetrics();

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === "start") {
    try {
      stop = await start(msg.config);
      post({ type: "started" });
    } catch (err) {
      post({ type: "fatal", message: (err as Error).message });
    }
  } else if (msg.type === "metrics") {
    post({ type: "metrics", reqId: msg.reqId, snapshot: metrics.registry.snapshot() });
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
  const deps = buildHandlerDeps(config, log, metrics, repo, storage);
  await consumer.start((m) => handleAdMessage(deps, m));
  const sweeper = startSweeper({ repo, publisher, log, metrics }, config.sweepAfterMs, Math.max(1000, Math.min(30_000, Math.round(config.sweepAfterMs / 2))));
  log.info("worker started", { concurrency: config.workerConcurrency, queue: config.amqpQueue });
  return async (timeoutMs: number) => {
    sweeper.stop();
    await consumer.stop(timeoutMs);
    await publisher.close();
    await sql.end({ timeout: 2 });
    log.info("worker stopped");
  };
}
