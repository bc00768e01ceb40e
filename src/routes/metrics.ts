import { Elysia } from "elysia";
import type { MetricsSnapshot, ServiceMetrics } from "../services/metrics";

export interface MetricsDeps {
  metrics: ServiceMetrics;
  /** Snapshots of other threads' registries (the worker's), merged into this one. */
  otherSnapshots: () => Promise<MetricsSnapshot[]>;
  /** Ready messages in the work and dead-letter queues, or null when the broker is unreachable. */
  queueDepths: () => Promise<{ work: number; dead: number } | null>;
}

/** `GET /metrics` in Prometheus text format. */
export function metricsRoutes(deps: MetricsDeps) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async ({ set }) => {
      const depths = await deps.queueDepths();
      if (depths) {
        deps.metrics.queueDepth.set(depths.work, { queue: "work" });
        deps.metrics.queueDepth.set(depths.dead, { queue: "dead" });
      }
      set.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
      return deps.metrics.registry.render(await deps.otherSnapshots());
    },
    { detail: { tags: ["Operations"], summary: "Prometheus metrics" } },
  );
}
