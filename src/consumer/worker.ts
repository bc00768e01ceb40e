/// <reference lib="webworker" />
/**
 * The worker thread: consumes the queue and runs the sweeper. Configuration arrives in the first
 * message from the main thread (this file never reads the environment).
 */
import { buildConsumer, buildDatabase, buildHandlerDeps, buildPublisher, buildStorage, buildTagger, poolSize } from "../compose";
import { LocalConsumer } from "../services/local-queue";
import type { AdPublisher } from "../services/queue";
import type { Config } from "../config";
import { createLogger } from "../services/logger";
import { serviceMetrics, type MetricsSnapshot } from "../services/metrics";
import { secretsOf } from "../config";
import { handleAdMessage } from "./handle-ad-message";
import { startSweeper } from "./sweeper";

export type ToWorker =
  /** `databaseUrl`: where the main thread's database is (the embedded one has no configured URL). */
  | { type: "start"; config: Config; databaseUrl: string }
  | { type: "stop"; timeoutMs: number }
  | { type: "metrics"; reqId: number }
  /** The in-process queue: an ad id from the HTTP side. */
  | { type: "dispatch"; adId: string };
export type FromWorker =
  | { type: "started" }
  | { type: "attached"; attached: boolean }
  | { type: "stopped" }
  | { type: "fatal"; message: string }
  | { type: "metrics"; reqId: number; snapshot: MetricsSnapshot };

declare const self: Worker;
const post = (m: FromWorker) => self.postMessage(m);
let stop: ((timeoutMs: number) => Promise<void>) | null = null;
let local: LocalConsumer | null = null;
const metrics = serviceMetrics();

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === "start") {
    try {
      stop = await start(msg.config, msg.databaseUrl);
      post({ type: "started" });
    } catch (err) {
      post({ type: "fatal", message: (err as Error).message });
    }
  } else if (msg.type === "dispatch") {
    local?.dispatch(msg.adId);
  } else if (msg.type === "metrics") {
    post({ type: "metrics", reqId: msg.reqId, snapshot: metrics.registry.snapshot() });
  } else if (msg.type === "stop") {
    await stop?.(msg.timeoutMs).catch(() => {});
    post({ type: "stopped" });
  }
};

async function start(config: Config, databaseUrl: string) {
  const log = createLogger({ level: config.logLevel, secrets: secretsOf({ ...config, databaseUrl }), base: { thread: "worker" } });
  const { sql, repo } = buildDatabase(config, poolSize(config, "worker"), databaseUrl);
  const storage = buildStorage(config);
  const consumer = buildConsumer(config, log);
  let publisher: AdPublisher;
  let sweepAfterMs = config.sweepAfterMs;
  if (consumer instanceof LocalConsumer) {
    // In-process queue: the sweeper hands due ads straight to the local consumer, and runs
    // often, because after a restart it is what re-dispatches the pending work.
    local = consumer;
    publisher = { publishAdSubmitted: async (id) => consumer.dispatch(id), ping: async () => {}, depths: async () => null, close: async () => {} };
    sweepAfterMs = Math.min(sweepAfterMs, 2000);
    metrics.queueDepth.set(0, { queue: "work" });
  } else {
    publisher = buildPublisher(config, log);
    consumer.onStateChange = (attached) => post({ type: "attached", attached });
  }
  const tagger = buildTagger(config, log);
  // Load the offline model now rather than on the first ad (it takes a moment).
  await tagger.warm?.();
  const deps = buildHandlerDeps(config, log, metrics, repo, storage, tagger);
  await consumer.start((m) => handleAdMessage(deps, m));
  if (consumer instanceof LocalConsumer) post({ type: "attached", attached: true });
  const sweeper = startSweeper({ repo, publisher, log, metrics }, sweepAfterMs, Math.max(1000, Math.min(30_000, Math.round(sweepAfterMs / 2))));
  log.info("worker started", { concurrency: config.workerConcurrency, queue: config.amqpUrl ? config.amqpQueue : "in-process" });
  return async (timeoutMs: number) => {
    sweeper.stop();
    await consumer.stop(timeoutMs);
    await publisher.close();
    await sql.end({ timeout: 2 });
    log.info("worker stopped");
  };
}
