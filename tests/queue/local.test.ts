import { expect, test } from "bun:test";
import { LocalConsumer, LocalPublisher } from "../../src/queue/local";
import { silentLogger } from "../../src/platform/logger";
import type { AdMessage, Outcome } from "../../src/queue/queue";

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(5);
  return cond();
};

test("at most `concurrency` messages in flight; each id handled once per dispatch", async () => {
  const q = new LocalConsumer(2, silentLogger);
  let inFlight = 0;
  let max = 0;
  const seen: string[] = [];
  await q.start(async (m) => {
    inFlight++;
    max = Math.max(max, inFlight);
    await Bun.sleep(20);
    seen.push(m.adId);
    inFlight--;
    return { kind: "done" };
  });
  for (let i = 0; i < 6; i++) q.dispatch(`ad-${i}`);
  expect(await until(() => seen.length === 6)).toBe(true);
  expect(max).toBe(2);
  expect(seen.sort()).toEqual(["ad-0", "ad-1", "ad-2", "ad-3", "ad-4", "ad-5"]);
});

test("a duplicate dispatch of a queued or in-flight id is dropped (the database decides anyway)", async () => {
  const q = new LocalConsumer(1, silentLogger);
  const seen: string[] = [];
  await q.start(async (m) => {
    await Bun.sleep(20);
    seen.push(m.adId);
    return { kind: "done" };
  });
  q.dispatch("a");
  q.dispatch("a");
  q.dispatch("b");
  q.dispatch("b");
  expect(await until(() => seen.length === 2)).toBe(true);
  await Bun.sleep(50);
  expect(seen).toEqual(["a", "b"]);
  q.dispatch("a"); // once done, a new dispatch is handled again (redelivery)
  expect(await until(() => seen.length === 3)).toBe(true);
});

test("`later` outcomes come back after their pause; dead ones do not", async () => {
  const q = new LocalConsumer(4, silentLogger);
  const calls: AdMessage[] = [];
  await q.start(async (m): Promise<Outcome> => {
    calls.push(m);
    if (m.adId === "flaky" && m.retries < 2) return { kind: "later", delayMs: 30 };
    if (m.adId === "poison") return { kind: "dead", reason: "permanent" };
    return { kind: "done" };
  });
  q.dispatch("flaky");
  q.dispatch("poison");
  expect(await until(() => calls.filter((c) => c.adId === "flaky").length === 3)).toBe(true);
  expect(calls.filter((c) => c.adId === "flaky").map((c) => c.retries)).toEqual([0, 1, 2]);
  await Bun.sleep(80);
  expect(calls.filter((c) => c.adId === "poison")).toHaveLength(1);
  expect((await q.publisher().depths())!.dead).toBe(1);
});

test("a handler that throws is retried, not lost", async () => {
  const q = new LocalConsumer(1, silentLogger);
  let n = 0;
  await q.start(async () => {
    if (++n === 1) throw new Error("boom");
    return { kind: "done" };
  });
  q.dispatch("x");
  // The first failure schedules a retry in 5 s; stop() cancels timers, which is what shutdown wants.
  expect(await until(() => n === 1)).toBe(true);
  await q.stop(100);
});

test("the publisher hands ids to its sink; with no worker attached it reports unready", async () => {
  const p = new LocalPublisher();
  expect(p.ping()).rejects.toThrow("worker thread is not running");
  const got: string[] = [];
  p.bind((id) => got.push(id));
  await p.publishAdSubmitted("a");
  await p.ping();
  expect(got).toEqual(["a"]);
});
