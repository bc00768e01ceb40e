import { Elysia, t } from "elysia";
import type { MetricsSnapshot, ServiceMetrics } from "../platform/metrics";

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
      const text = await deps.metrics.registry.render(await deps.otherSnapshots());
      set.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
      return text;
    },
    {
      // The answer is text, so it is documented here rather than as a validated response schema.
      detail: {
        tags: ["Operations"],
        summary: "Prometheus metrics",
        description: "Counters, gauges and histograms of this process and its worker threads, with the queue depths, in the Prometheus text exposition format (version 0.0.4).",
        security: [],
        responses: {
          200: {
            description: "The metrics (`Content-Type: text/plain; version=0.0.4; charset=utf-8`)",
            content: { "text/plain": { schema: t.String({ examples: ['# TYPE http_requests_total counter\nhttp_requests_total{method="GET",route="/health",status="200"} 1\n'] }) } },
          },
        },
      },
    },
  );
}
