/** The main thread's handle on the worker thread (worker.ts): start, readiness, dispatch, metrics, stop. */
import type { Config } from "../config";
import type { Logger } from "../platform/logger";
import type { MetricsSnapshot } from "../platform/metrics";
import type { FromWorker, ToWorker } from "./messages";

export type WorkerClient = ReturnType<typeof startWorker>;

/**
 * Starts the worker thread; `ready` resolves once it runs (its consumer attaches when the broker
 * allows). `url` is worker.ts's URL as the ENTRY file computes it (`new URL("./consumer/worker.ts",
 * import.meta.url)` in src/index.ts): in the compiled binary only the entry's import.meta.url
 * points where the worker entry point was bundled.
 */
export function startWorker(url: URL, config: Config, databaseUrl: string, log: Logger, onExit: () => void) {
  const worker = new Worker(url);
  let attached = false;
  let stopped: (() => void) | null = null;
  let reqSeq = 0;
  const pendingSnapshots = new Map<number, (s: MetricsSnapshot) => void>();
  const send = (m: ToWorker) => worker.postMessage(m);
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
  send({ type: "start", config, databaseUrl });
  return {
    ready,
    /** Hands an ad id to the worker thread (the in-process queue's transport). */
    dispatch: (adId: string) => send({ type: "dispatch", adId }),
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
        send({ type: "metrics", reqId });
      });
    },
    async stop(timeoutMs: number) {
      const done = new Promise<void>((r) => (stopped = r));
      send({ type: "stop", timeoutMs });
      await Promise.race([done, Bun.sleep(timeoutMs + 2000)]);
      worker.terminate();
    },
  };
}
