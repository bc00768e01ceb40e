import { expect, test } from "bun:test";
import { Registry, serviceMetrics } from "../../src/platform/metrics";

test("counters, gauges and histograms render in Prometheus text format", async () => {
  const r = new Registry();
  const c = r.counter("things_total", "Things", ["kind"]);
  c.inc({ kind: "a" });
  c.inc({ kind: "a" }, 2);
  c.inc({ kind: 'q"uote' });
  r.gauge("depth", "Depth", ["queue"]).set(7, { queue: "work" });
  const h = r.histogram("latency_seconds", "Latency", [1, 0.1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(3);
  const text = await r.render();
  expect(text).toContain("# HELP things_total Things\n# TYPE things_total counter");
  expect(text).toContain('things_total{kind="a"} 3');
  expect(text).toContain('things_total{kind="q\\"uote"} 1');
  expect(text).toContain("# TYPE depth gauge");
  expect(text).toContain('depth{queue="work"} 7');
  expect(text).toContain("# TYPE latency_seconds histogram");
  expect(text).toContain('latency_seconds_bucket{le="0.1"} 1');
  expect(text).toContain('latency_seconds_bucket{le="1"} 2');
  expect(text).toContain('latency_seconds_bucket{le="+Inf"} 3');
  expect(text).toContain("latency_seconds_sum 3.55");
  expect(text).toContain("latency_seconds_count 3");
  expect(text.endsWith("\n")).toBe(true);
  expect(r.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
});

test("an undeclared label is refused", () => {
  const r = new Registry();
  const c = r.counter("x_total", "X", ["a"]);
  // @ts-expect-error: "b" is not one of the counter's labels
  expect(() => c.inc({ b: "1" })).toThrow();
});

test("another thread's snapshot is merged: counters and histograms add up", async () => {
  const main = serviceMetrics();
  const worker = serviceMetrics();
  main.submitted.inc();
  worker.decided.inc({ outcome: "accepted", by: "auto" });
  worker.decided.inc({ outcome: "accepted", by: "auto" });
  main.decided.inc({ by: "auto", outcome: "accepted" });
  worker.processing.observe(0.2, { result: "done" });
  main.processing.observe(0.7, { result: "done" });
  worker.retries.inc({ reason: "http_429", provider: "tagger" }, 3);
  const snap = structuredClone(await worker.registry.snapshot()); // as it crosses postMessage
  const text = await main.registry.render([snap]);
  expect(text).toContain("ads_submitted_total 1");
  expect(text).toContain('ads_decided_total{by="auto",outcome="accepted"} 3');
  expect(text).toContain('processing_retries_total{provider="tagger",reason="http_429"} 3');
  // Labels sorted by name, `le` last; the buckets of both threads add up.
  expect(text).toContain('ad_processing_seconds_bucket{result="done",le="0.1"} 0');
  expect(text).toContain('ad_processing_seconds_bucket{result="done",le="0.25"} 1');
  expect(text).toContain('ad_processing_seconds_bucket{result="done",le="1"} 2');
  expect(text).toContain('ad_processing_seconds_bucket{result="done",le="+Inf"} 2');
  expect(text).toContain('ad_processing_seconds_sum{result="done"} 0.8999999999999999');
  expect(text).toContain('ad_processing_seconds_count{result="done"} 2');
  // Unlabelled counters start at 0 in each thread, so they sum to the real count.
  expect(text).toContain("ads_failed_total 0");
  // Each family once, with its help and type.
  expect(text.match(/# TYPE ads_decided_total counter/g)).toHaveLength(1);
});

test("gauges merge without a default 0: queue_depth takes this thread's reading, circuit_open the max", async () => {
  const main = serviceMetrics();
  const worker = serviceMetrics();
  // The worker sets work=0 at start (in-process queue); the main thread reads the broker at scrape time.
  worker.queueDepth.set(0, { queue: "work" });
  main.queueDepth.set(4, { queue: "work" });
  main.queueDepth.set(2, { queue: "dead" });
  // Breakers live in the worker thread only.
  worker.circuitOpen.set(1, { provider: "tagger" });
  worker.circuitOpen.set(0, { provider: "mailer" });
  let text = await main.registry.render([structuredClone(await worker.registry.snapshot())]);
  expect(text).toContain('queue_depth{queue="work"} 4');
  expect(text).toContain('queue_depth{queue="dead"} 2');
  expect(text).toContain('circuit_open{provider="tagger"} 1');
  expect(text).toContain('circuit_open{provider="mailer"} 0');

  // Set in the worker only: its value, not summed with anything.
  const lone = serviceMetrics();
  text = await lone.registry.render([structuredClone(await worker.registry.snapshot())]);
  expect(text).toContain('queue_depth{queue="work"} 0');
  expect(text).not.toContain('queue_depth{queue="dead"}');
  expect(text).toContain('circuit_open{provider="tagger"} 1');

  // Open in two threads: still 1.
  main.circuitOpen.set(1, { provider: "tagger" });
  text = await main.registry.render([structuredClone(await worker.registry.snapshot())]);
  expect(text).toContain('circuit_open{provider="tagger"} 1');
});

test("every metric keeps its name, type, help and labels", async () => {
  const m = serviceMetrics();
  m.refused.inc({ code: "rate_limited" });
  m.emailsSent.inc({ kind: "accepted" });
  m.emailsFailed.inc({ final: "true" });
  m.http.inc({ status: "200", route: "/health", method: "GET" });
  const text = await m.registry.render();
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, n, t]) => `${n} ${t}`);
  expect(types.sort()).toEqual(
    [
      "ad_processing_seconds histogram",
      "ads_decided_total counter",
      "ads_failed_total counter",
      "ads_refused_total counter",
      "ads_submitted_total counter",
      "circuit_open gauge",
      "emails_failed_total counter",
      "emails_sent_total counter",
      "http_requests_total counter",
      "intake_publish_failures_total counter",
      "processing_retries_total counter",
      "queue_depth gauge",
      "scheduler_dispatched_total counter",
    ].sort(),
  );
  expect(text).toContain("# HELP ads_submitted_total Ads accepted for review at intake (201)\n");
  expect(text).toContain("# HELP circuit_open 1 while a provider's circuit breaker is open (its work is held, the provider probed)\n");
  expect(text).toContain('ads_refused_total{code="rate_limited"} 1');
  expect(text).toContain('emails_sent_total{kind="accepted"} 1');
  expect(text).toContain('emails_failed_total{final="true"} 1');
  expect(text).toContain('http_requests_total{method="GET",route="/health",status="200"} 1');
});
