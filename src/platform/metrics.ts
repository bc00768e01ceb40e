/**
 * The service's Prometheus metrics, on prom-client (text exposition format 0.0.4).
 *
 * Each thread keeps its own registry. The worker thread sends `registry.snapshot()` (prom-client's
 * `getMetricsAsJSON()`, plain data that crosses postMessage) on request; the main thread merges it
 * with its own at scrape time through `AggregatorRegistry.aggregate()`, which combines each series
 * (same name and labels) with its metric's `aggregator`:
 * - counters and histograms: "sum" (each thread counts its own events);
 * - `queue_depth`: "first", and this thread's registry goes first. The main thread reads both depths
 *   from the broker at scrape time; the worker only sets `queue="work"` to 0 at start with the
 *   in-process queue (where the main thread reads nothing). Both describe the same queue, so a sum
 *   would count it twice, and "max" would let a stale reading outlive a fresh lower one.
 * - `circuit_open`: "max". The breakers live in the worker thread (buildHandlerDeps); should another
 *   thread ever hold breakers too, a provider reads 1 when it is open in any of them, never 2.
 * A labelled gauge has no series until it is set, so a gauge set in one thread only is never
 * combined with a default 0 of the other. Unlabelled counters start at 0 in every thread (they are
 * exposed as `name 0` before their first increment).
 *
 * Labels are declared per metric (prom-client refuses undeclared ones at run time; the types here
 * refuse them at compile time) and rendered sorted by name, `le` last. Default process metrics are
 * not collected.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry as PromRegistry } from "prom-client";
import type { Aggregator } from "prom-client";

/** One thread's metrics as prom-client's `getMetricsAsJSON()` gives them (structured-cloneable). */
export type MetricsSnapshot = Awaited<ReturnType<PromRegistry["getMetricsAsJSON"]>>;

type Labels<L extends string> = Partial<Record<L, string>>;

/** Labels sorted by name, `le` last (the order the hand-written registry rendered them in). */
function ordered(labels: Record<string, string | number | undefined>): Record<string, string | number> {
  const { le, ...rest } = labels;
  const out: Record<string, string | number> = {};
  for (const k of Object.keys(rest).sort()) if (rest[k] !== undefined) out[k] = rest[k];
  if (le !== undefined) out.le = le;
  return out;
}

/** A snapshot with each value's labels (and any shared ones) in one ordered object. */
function normalize(snap: MetricsSnapshot): MetricsSnapshot {
  return snap.map((m) => ({
    ...m,
    values: m.values.map((v) => {
      const { sharedLabels, ...rest } = v as typeof v & { sharedLabels?: Record<string, string> };
      return { ...rest, labels: ordered({ ...sharedLabels, ...v.labels }) };
    }),
  }));
}

export class Registry {
  readonly prom = new PromRegistry();

  /** A monotonically increasing count. */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    const c = new Counter<L>({ name, help, labelNames, registers: [this.prom] });
    return { inc: (labels?: Labels<L>, by = 1) => c.inc(labels ?? {}, by) };
  }

  /** A value that goes up and down (set at scrape time or on change); `aggregator` merges threads. */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], aggregator: Aggregator = "sum") {
    const g = new Gauge<L>({ name, help, labelNames, aggregator, registers: [this.prom] });
    return { set: (value: number, labels?: Labels<L>) => g.set(labels ?? {}, value) };
  }

  /** Observations counted into cumulative buckets (upper bounds in seconds). */
  histogram<L extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) {
    const h = new Histogram<L>({ name, help, labelNames, buckets: [...buckets].sort((a, b) => a - b), registers: [this.prom] });
    return { observe: (value: number, labels?: Labels<L>) => h.observe(labels ?? {}, value) };
  }

  /** Every series as plain data, to send across threads. */
  snapshot(): Promise<MetricsSnapshot> {
    return this.prom.getMetricsAsJSON();
  }

  /** Renders this registry merged with `others` (same definitions, e.g. the worker thread's). */
  async render(others: MetricsSnapshot[] = []): Promise<string> {
    const all = [await this.snapshot(), ...others].map(normalize);
    return AggregatorRegistry.aggregate(all).metrics();
  }

  /** `text/plain; version=0.0.4; charset=utf-8` */
  get contentType(): string {
    return this.prom.contentType;
  }
}

/** The service's metrics. Both threads define all of them, so snapshots merge by name. */
export function serviceMetrics(registry = new Registry()) {
  return {
    registry,
    submitted: registry.counter("ads_submitted_total", "Ads accepted for review at intake (201)"),
    refused: registry.counter("ads_refused_total", "Submissions refused at intake, by error code", ["code"]),
    decided: registry.counter("ads_decided_total", "Ads decided, by outcome and by whom", ["outcome", "by"]),
    failed: registry.counter("ads_failed_total", "Ads moved to the failed state (retry budget spent or a permanent error)"),
    retries: registry.counter("processing_retries_total", "Processing attempts scheduled for retry, by provider and reason", ["provider", "reason"]),
    processing: registry.histogram(
      "ad_processing_seconds",
      "Time to handle one delivery (tagging, decision and e-mail), by result",
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      ["result"],
    ),
    emailsSent: registry.counter("emails_sent_total", "E-mails accepted by the provider, by kind", ["kind"]),
    emailsFailed: registry.counter("emails_failed_total", "E-mail send failures, by whether they were final", ["final"]),
    publishFailures: registry.counter("intake_publish_failures_total", "Intake publishes that failed (the scheduler dispatches those ads once the broker takes them)"),
    swept: registry.counter("scheduler_dispatched_total", "Ads published by the worker's scheduler (due retries, failed intake publishes, work taken back from a dead worker)"),
    queueDepth: registry.gauge("queue_depth", "Ready messages in the work and dead-letter queues", ["queue"], "first"),
    circuitOpen: registry.gauge("circuit_open", "1 while a provider's circuit breaker is open (its work is held, the provider probed)", ["provider"], "max"),
    http: registry.counter("http_requests_total", "HTTP requests by method, route and status", ["method", "route", "status"]),
  };
}

export type ServiceMetrics = ReturnType<typeof serviceMetrics>;
