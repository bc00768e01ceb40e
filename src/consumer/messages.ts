/** The messages between the main thread (worker-client.ts) and the worker thread (worker.ts). */
import type { Config } from "../config";
import type { MetricsSnapshot } from "../platform/metrics";

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
