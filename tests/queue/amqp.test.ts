/**
 * The RabbitMQ adapter against the shared broker (127.0.0.1:5672), each test on queues of its
 * own: topology (quorum by default, no retry queues), outcomes, returned (unroutable) publishes,
 * consumer cancellation, node lists, the blocked state and what /ready says about it.
 * The real resource alarm and a lost queue leader are in tests/cluster/cluster.test.ts (a
 * cluster of our own: no alarm is ever set on the shared node).
 */
import { dependencyRejection } from "../support/expect";
import amqp from "amqplib";
import { afterAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { healthRoutes, runChecks } from "../../src/routes/health";
import {
  AmqpConsumer,
  AmqpPublisher,
  MAX_RECONNECT_DELAY_MS,
  queueArguments,
  REQUEUE_PAUSE_MS,
  topology,
  type AmqpOptions,
} from "../../src/queue/amqp";
import { DependencyError } from "../../src/domain/errors";
import { createLogger, silentLogger, type Logger } from "../../src/platform/logger";
import type { AdMessage, Outcome } from "../../src/queue/queue";
import { AMQP_URL, waitFor } from "../support/stack";

const created: string[] = [];
const closers: (() => Promise<unknown>)[] = [];

function queueName(): string {
  const q = `test.amqp.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  created.push(q);
  return q;
}

function options(queue: string, extra: Partial<AmqpOptions> = {}): AmqpOptions {
  return { url: AMQP_URL, queue, log: silentLogger, ...extra };
}

function capture(): { log: Logger; lines: { level: string; msg: string; [k: string]: unknown }[] } {
  const lines: { level: string; msg: string }[] = [];
  return { lines, log: createLogger({ level: "debug", write: (l) => lines.push(JSON.parse(l)) }) };
}

async function withChannel<T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    return await fn(ch);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Declares `q` with `args` on a fresh channel: null when accepted, the broker's reply code otherwise. */
async function declareCode(q: string, args: Record<string, unknown> | undefined): Promise<number | null> {
  return withChannel(async (ch) => {
    try {
      await ch.assertQueue(q, { durable: true, arguments: args });
      return null;
    } catch (err) {
      return (err as { code: number }).code;
    }
  });
}

async function depth(q: string): Promise<number | null> {
  return withChannel(async (ch) => (await ch.checkQueue(q).catch(() => null))?.messageCount ?? null);
}

const rejection = dependencyRejection;

/** A consumer whose handler answers with `outcome(msg)` and records every delivery. */
async function startConsumer(opts: AmqpOptions, outcome: (m: AdMessage) => Outcome | Promise<Outcome> = () => ({ kind: "done" })) {
  const seen: AdMessage[] = [];
  const states: boolean[] = [];
  const c = new AmqpConsumer(opts, 4, 3000);
  c.onStateChange = (a) => states.push(a);
  closers.push(() => c.stop(1000));
  await c.start(async (m) => {
    seen.push(m);
    return outcome(m);
  });
  return { c, seen, states };
}

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await withChannel(async (ch) => {
    for (const q of created) for (const name of [q, `${q}.dead`]) await ch.deleteQueue(name).catch(() => {});
  });
});

describe("topology", () => {
  test("only <q> and <q>.dead, quorum by default, the work queue with a delivery limit dead-lettering into <q>.dead", async () => {
    const q = queueName();
    expect(topology(q)).toEqual({ work: q, dead: `${q}.dead` });
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ad-1");
    // Equivalent re-declarations are accepted; a classic one is refused (406): they are quorum queues.
    expect(await declareCode(q, queueArguments("work", "quorum", q))).toBeNull();
    expect(await declareCode(`${q}.dead`, queueArguments("dead", "quorum", q))).toBeNull();
    expect(await declareCode(q, { "x-queue-type": "classic" })).toBe(406);
    expect(queueArguments("work", "quorum", q)).toMatchObject({
      "x-delivery-limit": 20,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": `${q}.dead`,
      "x-dead-letter-strategy": "at-least-once",
      "x-overflow": "reject-publish",
    });
    expect(await depth(`${q}.retry.5000`)).toBeNull();
  });

  test("AMQP_QUEUE_TYPE=classic declares classic queues", async () => {
    const q = queueName();
    const pub = new AmqpPublisher(options(q, { queueType: "classic", queueTypeExplicit: true }), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ad-1");
    expect(await declareCode(q, undefined)).toBeNull(); // an argument-less classic queue is equivalent
    expect(await declareCode(q, { "x-queue-type": "quorum" })).toBe(406);
  });

  test("an existing classic queue (an older deployment) is used as it is when the type is not set, with a warning saying how to move", async () => {
    const q = queueName();
    await withChannel((ch) => ch.assertQueue(q, { durable: true }));
    const { log, lines } = capture();
    const { c, seen } = await startConsumer(options(q, { log }));
    expect(c.attached).toBe(true);
    const warning = lines.find((l) => l.level === "warn" && l.msg.includes(`queue "${q}" exists as a classic queue`));
    expect(warning?.msg).toContain("AMQP_QUEUE_TYPE=quorum");
    expect(warning?.msg).toContain("delete it");
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ad-classic");
    expect(await waitFor(() => seen.some((m) => m.adId === "ad-classic"), 5000)).toBe(true);
  });

  test("AMQP_QUEUE_TYPE=quorum set explicitly over an existing classic queue fails clearly, naming the queue and the way out", async () => {
    const q = queueName();
    await withChannel((ch) => ch.assertQueue(q, { durable: true }));
    const c = new AmqpConsumer(options(q, { queueType: "quorum", queueTypeExplicit: true }), 1, 3000);
    closers.push(() => c.stop(100));
    const e = await rejection(c.start(async () => ({ kind: "done" })));
    expect(e.transient).toBe(false);
    expect(e.message).toContain(`queue "${q}" exists as a classic queue, but AMQP_QUEUE_TYPE=quorum`);
    expect(e.message).toContain("unset AMQP_QUEUE_TYPE");
    const pub = new AmqpPublisher(options(q, { queueType: "quorum", queueTypeExplicit: true }), 3000);
    closers.push(() => pub.close());
    expect((await rejection(pub.publishAdSubmitted("x"))).reason).toBe("queue_mismatch");
    expect(await runChecks({ broker: () => pub.ping() }, 3000)).toEqual({ broker: "misconfigured" });
  });
});

describe("outcomes", () => {
  test("done acks; dead publishes the id to <q>.dead (confirmed) and acks", async () => {
    const q = queueName();
    const { seen } = await startConsumer(options(q), (m) => (m.adId.startsWith("dead") ? { kind: "dead", reason: "permanent: 4xx" } : { kind: "done" }));
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ok-1");
    await pub.publishAdSubmitted("dead-1");
    expect(await waitFor(async () => (await depth(`${q}.dead`)) === 1, 5000)).toBe(true);
    expect(seen.map((m) => m.adId).sort()).toEqual(["dead-1", "ok-1"]);
    expect(await depth(q)).toBe(0);
    const msg = await withChannel(async (ch) => ch.get(`${q}.dead`, { noAck: true }));
    expect(msg && JSON.parse(msg.content.toString())).toEqual({ adId: "dead-1" });
    expect(msg && msg.properties.headers?.["x-reason"]).toBe("permanent: 4xx");
  });

  test("later holds the message unacked for its delay, then a fresh copy comes back (delivery count 0: a long outage never reaches the delivery limit)", async () => {
    const q = queueName();
    const times: number[] = [];
    const { seen } = await startConsumer(options(q), () => {
      times.push(Date.now());
      return times.length === 1 ? { kind: "later", delayMs: 600 } : { kind: "done" };
    });
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ad-later");
    expect(await waitFor(() => seen.length >= 2, 5000)).toBe(true);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(550);
    expect(seen.map((m) => m.retries)).toEqual([0, 0]);
  });

  test("a later pause ends early on shutdown, and the message goes back to the queue", async () => {
    const q = queueName();
    const { c, seen } = await startConsumer(options(q), () => ({ kind: "later", delayMs: 60_000 }));
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ad-held");
    expect(await waitFor(() => seen.length === 1, 5000)).toBe(true);
    const t0 = Date.now();
    await c.stop(10_000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await waitFor(async () => (await depth(q)) === 1, 5000)).toBe(true);
  });

  test("a dead-letter publish that fails goes back to the queue after a pause (no loss, no hot loop), then lands in <q>.dead", async () => {
    const q = queueName();
    const times: number[] = [];
    const { seen } = await startConsumer(options(q), (m) => {
      if (m.adId === "ad-dead") times.push(Date.now());
      return { kind: "dead", reason: "permanent" };
    });
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("warm-up"); // the consumer's own publisher is connected now
    expect(await waitFor(async () => (await depth(`${q}.dead`)) === 1, 5000)).toBe(true);
    // Remove the dead-letter queue behind the consumer's back: its next publish there is returned.
    await withChannel((ch) => ch.deleteQueue(`${q}.dead`));
    await pub.publishAdSubmitted("ad-dead");
    expect(await waitFor(async () => (await depth(`${q}.dead`)) === 1, 8000)).toBe(true);
    expect(times.length).toBe(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(REQUEUE_PAUSE_MS - 50);
    expect(seen.map((m) => m.retries)).toEqual([0, 0, 1]);
    expect(await depth(q)).toBe(0);
  });

  test("the quorum queue's delivery limit dead-letters a message that keeps coming back (second guard)", async () => {
    const q = queueName();
    // A handler that keeps failing unexpectedly: the message goes back with a nack-requeue each time.
    const { seen } = await startConsumer(options(q, { deliveryLimit: 2 }), () => {
      throw new Error("boom");
    });
    const pub = new AmqpPublisher(options(q, { deliveryLimit: 2 }), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("ad-poison");
    expect(await waitFor(async () => (await depth(`${q}.dead`)) === 1, 10_000)).toBe(true);
    expect(seen.length).toBe(3);
  });
});

describe("returned messages and consumer cancellation", () => {
  test("a publish to a deleted queue is rejected as unroutable; the next one declares the queue again and succeeds", async () => {
    const q = queueName();
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("before");
    await withChannel((ch) => ch.deleteQueue(q));
    const t0 = Date.now();
    const e = await rejection(pub.publishAdSubmitted("lost?"));
    expect([e.reason, e.transient]).toEqual(["unroutable", true]);
    expect(Date.now() - t0).toBeLessThan(1000); // not the publish timeout
    await pub.publishAdSubmitted("after");
    expect(await depth(q)).toBe(1);
    const msg = await withChannel(async (ch) => ch.get(q, { noAck: true }));
    expect(msg && JSON.parse(msg.content.toString())).toEqual({ adId: "after" });
  });

  test("concurrent publishes: only the returned one fails", async () => {
    const q = queueName();
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("warm-up");
    const results = await Promise.allSettled([pub.publishTo(q, "a"), pub.publishTo(`${q}.nowhere`, "b"), pub.publishTo(q, "c")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(((results[1] as PromiseRejectedResult).reason as DependencyError).reason).toBe("unroutable");
  });

  test("queue deleted under the consumer: it is marked detached, re-declares and re-attaches within seconds, and handles what comes next", async () => {
    const q = queueName();
    const { c, seen, states } = await startConsumer(options(q));
    expect(states).toEqual([true]);
    const t0 = Date.now();
    await withChannel((ch) => ch.deleteQueue(q));
    expect(await waitFor(() => states.length >= 2, 5000)).toBe(true);
    expect(states[1]).toBe(false);
    expect(await waitFor(() => c.attached, 10_000)).toBe(true);
    const reattachMs = Date.now() - t0;
    console.log(`[amqp] queue deleted: consumer re-attached after ${reattachMs} ms`);
    expect(reattachMs).toBeLessThan(5000);
    expect(states.at(-1)).toBe(true);
    const pub = new AmqpPublisher(options(q), 3000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("after-delete");
    expect(await waitFor(() => seen.some((m) => m.adId === "after-delete"), 5000)).toBe(true);
  });
});

describe("node lists, backoff", () => {
  test("AMQP_URL with a dead node first and a live one: publisher and consumer get through, whatever node they start at", async () => {
    const q = queueName();
    const list = `amqp://guest:guest@127.0.0.1:1,${AMQP_URL}`;
    for (let i = 0; i < 4; i++) {
      const pub = new AmqpPublisher(options(q, { url: list }), 3000);
      await pub.publishAdSubmitted(`ad-${i}`);
      expect(pub.node).toBe("127.0.0.1:5672");
      await pub.close();
    }
    const { c, seen } = await startConsumer(options(q, { url: list }));
    expect(c.node).toBe("127.0.0.1:5672");
    expect(await waitFor(() => seen.length === 4, 5000)).toBe(true);
  });

  test("every node down: one error naming each node (no credentials)", async () => {
    const pub = new AmqpPublisher(options(queueName(), { url: "amqp://u:s3cret-pw@127.0.0.1:1,amqp://u:s3cret-pw@127.0.0.1:2" }), 3000);
    const e = await rejection(pub.publishAdSubmitted("x"));
    expect(e.message).toContain("127.0.0.1:1");
    expect(e.message).toContain("127.0.0.1:2");
    expect(e.message).not.toContain("s3cret");
  });

  test("reconnect backoff: jittered, never above 5 s", () => {
    const delays = Array.from({ length: 2000 }, (_, i) => AmqpConsumer.reconnectDelay(i % 20));
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_RECONNECT_DELAY_MS);
    expect(MAX_RECONNECT_DELAY_MS).toBe(5000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(250);
    expect(new Set(delays.filter((_, i) => i % 20 === 19)).size).toBeGreaterThan(10); // jitter at the cap
  });
});

describe("blocked connection (connection.blocked, simulated here; real alarm in the cluster test)", () => {
  test("while blocked: publishes fail at once with reason blocked, /ready says broker: blocked (503); after unblocked they succeed", async () => {
    const q = queueName();
    const pub = new AmqpPublisher(options(q), 5000);
    closers.push(() => pub.close());
    await pub.publishAdSubmitted("before");
    expect(pub.blocked).toBe(false);
    const conn = (pub as unknown as { conn: amqp.ChannelModel }).conn;
    conn.emit("blocked", "low on memory");
    expect(pub.blocked).toBe(true);
    const t0 = Date.now();
    const e = await rejection(pub.publishAdSubmitted("during"));
    expect([e.reason, e.transient]).toEqual(["blocked", true]);
    expect(Date.now() - t0).toBeLessThan(100);

    const app = new Elysia().use(healthRoutes({ database: async () => {}, broker: () => pub.ping() }, () => false));
    const res = await app.handle(new Request("http://localhost/ready"));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "not_ready", checks: { database: "ok", broker: "blocked" } });

    conn.emit("unblocked");
    expect(pub.blocked).toBe(false);
    await pub.publishAdSubmitted("after");
    const ok = await app.handle(new Request("http://localhost/ready"));
    expect(ok.status).toBe(200);
    expect(await depth(q)).toBe(2);
  });

  test("runChecks: a failure without a readiness name is 'unavailable', a check may resolve to a state name", async () => {
    const named = Object.assign(new Error("x"), { readiness: "blocked" });
    expect(
      await runChecks(
        {
          a: async () => {},
          b: async () => {
            throw new Error("down");
          },
          c: async () => {
            throw named;
          },
          d: async () => "degraded",
          e: () => new Promise(() => {}),
        },
        100,
      ),
    ).toEqual({ a: "ok", b: "unavailable", c: "blocked", d: "degraded", e: "unavailable" });
  });
});
