import { expect, test } from "bun:test";
import { BreakerOpen, CircuitBreaker } from "../../src/platform/circuit-breaker";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}
const fail = () => Promise.reject(new Error("503"));
const ok = () => Promise.resolve("ok");
const transient = () => true;

test("opens after 5 transient failures in a row; then refuses without calling, except one probe per wait", async () => {
  const c = clock();
  const b = new CircuitBreaker("tagger", { threshold: 5, minProbeMs: 5000, maxProbeMs: 30_000 }, undefined, c.now);
  let calls = 0;
  const counted = () => (calls++, fail());
  for (let i = 0; i < 5; i++) await b.run(counted, transient).catch(() => {});
  expect(b.isOpen).toBe(true);
  expect(calls).toBe(5);
  const refused = await b.run(counted, transient).catch((e) => e);
  expect(refused).toBeInstanceOf(BreakerOpen);
  expect(refused.retryInMs).toBeGreaterThanOrEqual(5000);
  expect(calls).toBe(5);
  c.advance(5000);
  // One probe at a time: a second caller while the probe is out is refused.
  let release!: () => void;
  const probe = b.run(() => (calls++, new Promise<string>((_, rej) => (release = () => rej(new Error("503"))))), transient).catch(() => {});
  expect(await b.run(counted, transient).catch((e) => e)).toBeInstanceOf(BreakerOpen);
  release();
  await probe;
  expect(calls).toBe(6);
  // The failed probe doubled the wait: 5 s later still refused, 10 s later probed.
  c.advance(5000);
  expect(await b.run(counted, transient).catch((e) => e)).toBeInstanceOf(BreakerOpen);
  c.advance(5000);
  let closed = 0;
  b.onClose = () => closed++;
  expect(await b.run(ok, transient)).toBe("ok");
  expect(b.isOpen).toBe(false);
  expect(closed).toBe(1);
});

test("the probe wait is capped; a permanent error proves the provider is up; successes reset the count", async () => {
  const c = clock();
  const b = new CircuitBreaker("mailer", { threshold: 2, minProbeMs: 5000, maxProbeMs: 30_000 }, undefined, c.now);
  await b.run(fail, transient).catch(() => {});
  await b.run(ok, transient);
  await b.run(fail, transient).catch(() => {});
  expect(b.isOpen).toBe(false); // not two in a row
  await b.run(fail, transient).catch(() => {});
  expect(b.isOpen).toBe(true);
  for (let i = 0; i < 6; i++) {
    c.advance(30_000);
    await b.run(fail, transient).catch(() => {});
  }
  expect(b.retryInMs()).toBeLessThanOrEqual(30_000 + 250);
  c.advance(30_000);
  await b.run(fail, () => false).catch(() => {}); // a 400: the provider answered
  expect(b.isOpen).toBe(false);
});
