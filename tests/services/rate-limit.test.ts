import { expect, test } from "bun:test";
import { RateLimiter } from "../../src/services/rate-limit";

test("a burst is allowed, then one request per refill interval", () => {
  let now = 0;
  const rl = new RateLimiter(60, 3, 100, () => now); // one token a second
  expect([rl.take("a"), rl.take("a"), rl.take("a")]).toEqual([0, 0, 0]);
  expect(rl.take("a")).toBe(1);
  now += 1000;
  expect(rl.take("a")).toBe(0);
  expect(rl.take("a")).toBeGreaterThan(0);
});

test("clients are independent", () => {
  const rl = new RateLimiter(60, 1, 100, () => 0);
  expect(rl.take("a")).toBe(0);
  expect(rl.take("a")).toBeGreaterThan(0);
  expect(rl.take("b")).toBe(0);
});

test("memory is bounded: the least recently seen client is forgotten", () => {
  const rl = new RateLimiter(60, 1, 2, () => 0);
  rl.take("a");
  rl.take("b");
  rl.take("c"); // evicts "a"
  expect(rl.take("a")).toBe(0); // a fresh bucket again
  expect(rl.take("c")).toBeGreaterThan(0);
});
