import { expect, test } from "bun:test";
import { Registry, serviceMetrics } from "../../src/services/metrics";

test("counters, gauges and histograms render in Prometheus text format", () => {
  const r = new Registry();
  const c = r.counter("things_total", "Things");
  c.inc({ kind: "a" });
  c.inc({ kind: "a" }, 2);
  c.inc({ kind: 'q"uote' });
  r.gauge("depth", "Depth").set(7, { queue: "work" });
  const h = r.histogram("latency_seconds", "Latency", [0.1, 1]);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(3);
  const text = r.render();
  expect(text).toContain("# TYPE things_total counter");
  expect(text).toContain('things_total{kind="a"} 3');
  expect(text).toContain('things_total{kind="q\\"uote"} 1');
  expect(text).toContain('depth{queue="work"} 7');
  expect(text).toContain('latency_seconds_bucket{le="0.1"} 1');
  expect(text).toContain('latency_seconds_bucket{le="1"} 2');
  expect(text).toContain('latency_seconds_bucket{le="+Inf"} 3');
  expect(text).toContain("latency_seconds_sum 3.55");
  expect(text).toContain("latency_seconds_count 3");
});

test("another thread's snapshot is merged: counters and histograms add up", () => {
  const main = serviceMetrics();
  const worker = serviceMetrics();
  main.submitted.inc();
  worker.decided.inc({ outcome: "accepted", by: "auto" });
  worker.decided.inc({ outcome: "accepted", by: "auto" });
  main.decided.inc({ outcome: "accepted", by: "auto" });
  worker.processing.observe(0.2, { result: "done" });
  const snap = structuredClone(worker.registry.snapshot()); // as it crosses postMessage
  const text = main.registry.render([snap]);
  expect(text).toContain("ads_submitted_total 1");
  expect(text).toContain('ads_decided_total{by="auto",outcome="accepted"} 3');
  expect(text).toContain('ad_processing_seconds_count{result="done"} 1');
});
