/**
 * A small Prometheus registry (text exposition format 0.0.4). Each thread keeps its own; the
 * worker thread sends snapshots to the main thread, which merges them at scrape time.
 */

type Labels = Record<string, string>;
type Kind = "counter" | "gauge" | "histogram";

interface Family {
  name: string;
  help: string;
  kind: Kind;
  buckets?: number[];
  /** label key (JSON of sorted entries) → value, or histogram state */
  series: Map<string, number | HistogramState>;
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export type MetricsSnapshot = Array<{ name: string; series: Array<[string, number | HistogramState]> }>;

const key = (labels: Labels = {}) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function renderLabels(k: string, extra?: [string, string]): string {
  const entries = JSON.parse(k) as Array<[string, string]>;
  if (extra) entries.push(extra);
  return entries.length ? `{${entries.map(([n, v]) => `${n}="${escapeLabel(v)}"`).join(",")}}` : "";
}

export class Registry {
  private readonly families = new Map<string, Family>();

  private family(name: string, help: string, kind: Kind, buckets?: number[]): Family {
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, kind, buckets, series: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  /** A monotonically increasing count. */
  counter(name: string, help: string) {
    const f = this.family(name, help, "counter");
    return {
      inc: (labels?: Labels, by = 1) => {
        const k = key(labels);
        f.series.set(k, ((f.series.get(k) as number | undefined) ?? 0) + by);
      },
    };
  }

  /** A value that goes up and down (set at scrape time or on change). */
  gauge(name: string, help: string) {
    const f = this.family(name, help, "gauge");
    return { set: (value: number, labels?: Labels) => void f.series.set(key(labels), value) };
  }

  /** Observations counted into cumulative buckets (upper bounds in seconds). */
  histogram(name: string, help: string, buckets: number[]) {
    const f = this.family(name, help, "histogram", [...buckets].sort((a, b) => a - b));
    return {
      observe: (value: number, labels?: Labels) => {
        const k = key(labels);
        let h = f.series.get(k) as HistogramState | undefined;
        if (!h) {
          h = { counts: f.buckets!.map(() => 0), sum: 0, count: 0 };
          f.series.set(k, h);
        }
        f.buckets!.forEach((b, i) => {
          if (value <= b) h!.counts[i]!++;
        });
        h.sum += value;
        h.count++;
      },
    };
  }

  /** A copy of every series, to send across threads. */
  snapshot(): MetricsSnapshot {
    return [...this.families.values()].map((f) => ({ name: f.name, series: [...f.series.entries()].map(([k, v]) => [k, typeof v === "number" ? v : structuredClone(v)]) }));
  }

  /** Renders this registry plus `others` (same definitions, e.g. the worker thread's), summed. */
  render(others: MetricsSnapshot[] = []): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      const merged = new Map<string, number | HistogramState>();
      const add = (k: string, v: number | HistogramState) => {
        const cur = merged.get(k);
        if (cur === undefined) merged.set(k, typeof v === "number" ? v : structuredClone(v));
        else if (typeof cur === "number" && typeof v === "number") merged.set(k, f.kind === "gauge" ? v : cur + v);
        else if (typeof cur !== "number" && typeof v !== "number") {
          cur.counts = cur.counts.map((c, i) => c + (v.counts[i] ?? 0));
          cur.sum += v.sum;
          cur.count += v.count;
        }
      };
      for (const [k, v] of f.series) add(k, v);
      for (const snap of others) for (const [k, v] of snap.find((s) => s.name === f.name)?.series ?? []) add(k, v);
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.kind}`);
      for (const [k, v] of merged) {
        if (typeof v === "number") {
          out.push(`${f.name}${renderLabels(k)} ${v}`);
        } else {
          f.buckets!.forEach((b, i) => out.push(`${f.name}_bucket${renderLabels(k, ["le", String(b)])} ${v.counts[i]}`));
          out.push(`${f.name}_bucket${renderLabels(k, ["le", "+Inf"])} ${v.count}`);
          out.push(`${f.name}_sum${renderLabels(k)} ${v.sum}`, `${f.name}_count${renderLabels(k)} ${v.count}`);
        }
      }
    }
    return out.join("\n") + "\n";
  }
}

/** The service's metrics. Both threads define all of them, so snapshots merge by name. */
export function serviceMetrics(registry = new Registry()) {
  return {
    registry,
    submitted: registry.counter("ads_submitted_total", "Ads accepted for review at intake (201)"),
    refused: registry.counter("ads_refused_total", "Submissions refused at intake, by error code"),
    decided: registry.counter("ads_decided_total", "Ads decided, by outcome and by whom"),
    failed: registry.counter("ads_failed_total", "Ads moved to the failed state (retry budget spent or a permanent error)"),
    retries: registry.counter("processing_retries_total", "Processing attempts scheduled for retry, by provider and reason"),
    processing: registry.histogram("ad_processing_seconds", "Time to handle one delivery (tagging, decision and e-mail), by result", [
      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]),
    emailsSent: registry.counter("emails_sent_total", "E-mails accepted by the provider, by kind"),
    emailsFailed: registry.counter("emails_failed_total", "E-mail send failures, by whether they were final"),
    publishFailures: registry.counter("intake_publish_failures_total", "Intake publishes that failed (the scheduler dispatches those ads once the broker takes them)"),
    swept: registry.counter("scheduler_dispatched_total", "Ads published by the worker's scheduler (due retries, failed intake publishes, work taken back from a dead worker)"),
    queueDepth: registry.gauge("queue_depth", "Ready messages in the work and dead-letter queues"),
    circuitOpen: registry.gauge("circuit_open", "1 while a provider's circuit breaker is open (its work is held, the provider probed)"),
    http: registry.counter("http_requests_total", "HTTP requests by method, route and status"),
  };
}

export type ServiceMetrics = ReturnType<typeof serviceMetrics>;
