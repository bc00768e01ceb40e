import { expect, test } from "bun:test";
import { clientKey, RateLimiter } from "../../src/platform/rate-limit";

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

test("IPv6 clients are keyed by their /64: one host's many addresses share one bucket", () => {
  const rl = new RateLimiter(60, 1, 100, () => 0);
  expect(rl.take("2001:db8:1:2::1")).toBe(0);
  // Same /64, written in every way an address can be written.
  for (const same of ["2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:0DB8:0001:0002:0000:0000:0000:0003", "[2001:db8:1:2::4]", "2001:db8:1:2::5%eth0"]) {
    expect([same, rl.take(same)]).toEqual([same, 1]);
  }
  // The next /64 is another client.
  expect(rl.take("2001:db8:1:3::1")).toBe(0);
});

test("clientKey normalises addresses: '::' expanded, IPv4-mapped IPv6 is the IPv4 client", () => {
  expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(clientKey("2001:DB8:0:0:1::")).toBe("2001:db8:0:0::/64");
  expect(clientKey("::1")).toBe("0:0:0:0::/64");
  expect(clientKey("::")).toBe("0:0:0:0::/64");
  expect(clientKey("fe80::1%lo0")).toBe("fe80:0:0:0::/64");
  expect(clientKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
  expect(clientKey("::FFFF:c000:0207")).toBe("192.0.2.7");
  expect(clientKey("192.0.2.7")).toBe("192.0.2.7");
  // Anything else (a global key, "unknown", garbage) is kept as it is.
  for (const other of ["*", "unknown", "1:2:3", "1::2::3", "12345::1", "1:2:3:4:5:6:7:8:9", "::ffff:999.0.0.1"]) expect(clientKey(other)).toBe(other);
});

test("an IPv4-mapped address and its IPv4 form share one bucket", () => {
  const rl = new RateLimiter(60, 1, 100, () => 0);
  expect(rl.take("::ffff:198.51.100.9")).toBe(0);
  expect(rl.take("198.51.100.9")).toBe(1);
});
