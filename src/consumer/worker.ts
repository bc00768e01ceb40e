/// <reference lib="webworker" />
/**
 * The worker thread: consumes the queue and runs the scheduler. Configuration arrives in the first
 * message from the main thread (this file never reads the environment).
 */
import { buildConsumer, buildDatabase, buildHandlerDeps, buildStorage, buildTagger, newOwnerId, poolSize, posterKeys } from "../compose";
import type { AdConsumer, AdPublisher } from "../queue/queue";
import type { Config } from "../config";
import { createLogger } from "../platform/logger";
import { serviceMetrics, type ServiceMetrics } from "../platform/metrics";
import type { FromWorker, ToWorker } from "./messages";
import { secretsOf } from "../config";
import { hostname } from "node:os";
import { handleAdMessage, HeldLeases } from "./handle-ad-message";
import { startScheduler } from "./scheduler";
import { startOrphanCollector } from "./orphans";
import { startRetention } from "./retention";
import { PosterRepository } from "../database/poster-repository";
import type { AdRepository } from "../database/ad-repository";
import type { Logger } from "../platform/logger";

declare const self: Worker;
const post = (m: FromWorker) => self.postMessage(m);
let stop: ((timeoutMs: number) => Promise<void>) | null = null;
let consumer: AdConsumer | null = null;
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
    consumer?.dispatch?.(msg.adId);
  } else if (msg.type === "metrics") {
    post({ type: "metrics", reqId: msg.reqId, snapshot: await metrics.registry.snapshot() });
  } else if (msg.type === "stop") {
    await stop?.(msg.timeoutMs).catch(() => {});
    post({ type: "stopped" });
  }
};

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Leases held by earlier processes of this host that are gone (killed, crashed) are released at
 * start, so their work is taken up at once rather than when the leases run out. Owners on other
 * hosts are left to their leases' expiry (≤ LEASE_MS).
 */
async function releaseDeadOwners(repo: AdRepository, owner: string, log: Logger): Promise<void> {
  const host = hostname();
  const dead = (await repo.leaseOwners()).filter((o) => {
    const [h, pid] = o.split(":");
    if (h !== host || o === owner) return false;
    return Number(pid) === process.pid || !pidAlive(Number(pid));
  });
  const n = await repo.releaseLeases(dead);
  if (n) log.warn("released the leases of processes of this host that are gone", { owners: dead, leases: n });
}

async function start(config: Config, databaseUrl: string) {
  const log = createLogger({ level: config.logLevel, secrets: secretsOf({ ...config, databaseUrl }), base: { thread: "worker" } });
  const { sql, repo } = buildDatabase(config, poolSize(config, "worker"), databaseUrl);
  const storage = buildStorage(config);
  const queue = buildConsumer(config, log);
  consumer = queue;
  const owner = newOwnerId();
  const held = new HeldLeases();
  // The scheduler publishes into the consumer's own queue (for the in-process queue: hands it over).
  const publisher = queue.publisher();
  queue.onStateChange = (attached) => post({ type: "attached", attached });
  // The queue was deleted (or lost with its node): the messages it held are gone; the
  // scheduler publishes all outstanding work again once the queue is declared anew.
  queue.onQueueLost = () =>
    void repo.undispatchAll().then((n) => log.warn("work queue lost; outstanding work will be dispatched again", { ads: n }), (err) => log.warn("could not mark lost work for dispatch; the slow sweep will", { err }));
  if (queue.inMemory) {
    // The queue lived in memory, so at start every piece of outstanding work is undispatched
    // (the data directory's lock guarantees no other process holds any of it).
    const n = await repo.resetDispatch().catch((err) => (log.warn("could not reset dispatch marks", { err }), 0));
    if (n) log.info("outstanding work from before the start will be dispatched again", { ads: n });
  } else {
    await releaseDeadOwners(repo, owner, log).catch((err) => log.warn("could not check for leases of dead processes", { err }));
  }
  const tagger = buildTagger(config, log);
  // Load the offline model now rather than on the first ad (it takes a moment).
  await tagger.warm?.();
  const poster = { posters: new PosterRepository(sql, config.databaseTimeoutMs), keys: posterKeys(config) };
  const deps = buildHandlerDeps(config, log, metrics, repo, storage, tagger, { owner, held }, poster);
  // A breaker starts closed: work held by an earlier run is tried again now (it re-opens if need be).
  for (const p of Object.keys(deps.breakers)) await repo.releaseHeld(p).catch(() => 0);
  await queue.start((m) => handleAdMessage(deps, m));
  const scheduler = startScheduler(
    { repo, publisher, log, metrics, owner, held, breakers: Object.values(deps.breakers) },
    { everyMs: SCHEDULER_EVERY_MS, leaseMs: config.leaseMs, holdMs: config.publishTimeoutMs + 5000, sweepAfterMs: config.sweepAfterMs },
  );
  // Images whose row never committed (a crash between the upload and the insert) are deleted after an hour.
  const orphans = startOrphanCollector({ storage, existingIds: (ids) => repo.existingIds(ids), log });
  // Daily: posters' addresses past RETENTION_DAYS hashed, withdrawn ads' leftovers deleted.
  const retention = startRetention({ ...poster, storage, log, retentionDays: config.retentionDays });
  // The in-memory queue's depth, for `queue_depth` (RabbitMQ's is asked at scrape time).
  const depthTimer = queue.inMemory ? setInterval(() => void exportDepth(publisher, metrics), SCHEDULER_EVERY_MS) : null;
  log.info("worker started", { concurrency: config.workerConcurrency, queue: config.amqpUrl ? config.amqpQueue : "in-process", owner });
  return async (timeoutMs: number) => {
    scheduler.stop();
    if (depthTimer) clearInterval(depthTimer);
    await orphans.stop();
    await retention.stop();
    await queue.stop(timeoutMs);
    // A clean stop is not a crash: hand back what is still held, without counting its start.
    await repo.releaseLeases([owner], true).catch((err) => log.warn("could not release leases at stop; they expire by themselves", { err }));
    await publisher.close();
    await sql.end({ timeout: 2 });
    log.info("worker stopped");
  };
}

async function exportDepth(publisher: AdPublisher, metrics: ServiceMetrics): Promise<void> {
  const d = await publisher.depths().catch(() => null);
  if (!d) return;
  metrics.queueDepth.set(d.work, { queue: "work" });
  metrics.queueDepth.set(d.dead, { queue: "dead" });
}

/** How often the scheduler looks for due work (and so the worst added delay of a retry). */
const SCHEDULER_EVERY_MS = 1000;
