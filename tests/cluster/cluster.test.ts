/**
 * The RabbitMQ adapter against a THREE-node cluster of our own (tests/infra/rabbitmq-cluster.sh:
 * rmq-a/b/c@localhost on 5701-5703), started here and stopped whatever happens (afterAll, an
 * exit hook, and a watcher in the script that stops it if this process dies without either).
 * The shared node (5672) is never touched: every rabbitmqctl call names one of our nodes.
 *
 * (a) Leader loss: a quorum work queue, AMQP_URL listing the three nodes, a steady stream of
 *     publishes while a consumer handles them; the queue leader's node is stopped mid-stream.
 *     Every confirmed id is handled at least once; the consumer re-attaches to a surviving node.
 * (b) Memory alarm on rmq-a: publishes fail fast with reason "blocked", the publisher reports
 *     blocked (and /ready would say broker: "blocked"), a consumer still receives; after the
 *     alarm clears, publishes succeed.
 * Recovery times are printed as `[cluster] …` lines.
 */
import { dependencyRejection } from "../support/expect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runChecks } from "../../src/routes/health";
import { AmqpConsumer, AmqpPublisher, type AmqpOptions } from "../../src/queue/amqp";
import { createLogger, silentLogger, type Logger } from "../../src/platform/logger";
import { waitFor } from "../support/stack";

const SCRIPT = join(import.meta.dir, "../infra/rabbitmq-cluster.sh");
const PORTS = { "rmq-a@localhost": 5701, "rmq-b@localhost": 5702, "rmq-c@localhost": 5703 } as const;
type NodeName = keyof typeof PORTS;
const NODES = Object.keys(PORTS) as NodeName[];
const URLS = NODES.map((n) => `amqp://guest:guest@127.0.0.1:${PORTS[n]}`).join(",");
const nodeOfLabel = (label: string | null): NodeName | undefined => NODES.find((n) => label === `127.0.0.1:${PORTS[n]}`);

const log: Logger = process.env.CLUSTER_TEST_LOG ? createLogger({ level: "debug", write: (l) => process.stderr.write(l + "\n") }) : silentLogger;
const closers: (() => Promise<unknown>)[] = [];
let clusterStopped = false;

/** Runs a command without blocking the event loop (publishes and deliveries go on meanwhile). */
async function run(cmd: string[], timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, RMQ_CLUSTER_OWNER_PID: String(process.pid) } });
  const timer = setTimeout(() => p.kill(), timeoutMs);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  clearTimeout(timer);
  if (code !== 0) process.stderr.write(`[cluster] ${cmd.join(" ")} exited ${code}\n${out}${err}`);
  return { code, out };
}

function ctl(node: NodeName, ...args: string[]) {
  return run(["rabbitmqctl", "-q", "-n", node, ...args]);
}

/** The queue's leader, asked of a node that is up. */
async function leaderOf(queue: string, askNode: NodeName): Promise<NodeName | undefined> {
  const { out } = await ctl(askNode, "list_queues", "name", "leader", "--formatter", "json");
  const rows = JSON.parse(out.slice(out.indexOf("["))) as { name: string; leader: string }[];
  return rows.find((r) => r.name === queue)?.leader as NodeName | undefined;
}

function stopCluster(): void {
  if (clusterStopped) return;
  clusterStopped = true;
  Bun.spawnSync(["bash", SCRIPT, "stop"], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
}

function queueName(): string {
  return `test.cluster.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

function options(queue: string): AmqpOptions {
  return { url: URLS, queue, log };
}

const rejection = dependencyRejection;

beforeAll(async () => {
  process.on("exit", stopCluster);
  const t0 = Date.now();
  const { code } = await run(["bash", SCRIPT, "start"], 150_000);
  expect(code).toBe(0);
  console.log(`[cluster] three nodes up and clustered in ${Date.now() - t0} ms`);
}, 160_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  stopCluster();
}, 60_000);

describe("three-node RabbitMQ cluster", () => {
  test(
    "leader loss mid-stream: every confirmed id is handled, the consumer re-attaches to a surviving node",
    async () => {
      const q = queueName();
      const handled = new Map<string, number>();
      const states: { at: number; attached: boolean }[] = [];
      const consumer = new AmqpConsumer(options(q), 8, 5000);
      consumer.onStateChange = (attached) => states.push({ at: Date.now(), attached });
      closers.push(() => consumer.stop(2000));
      await consumer.start(async (m) => {
        handled.set(m.adId, (handled.get(m.adId) ?? 0) + 1);
        return { kind: "done" };
      });
      expect(consumer.attached).toBe(true);
      // The consumer declared the queue, and a quorum queue's leader is placed on the declaring
      // client's node (client-local): stopping the leader also takes the consumer's node away.
      const consumerNode = nodeOfLabel(consumer.node)!;
      const leader = (await leaderOf(q, consumerNode))!;
      expect(leader).toBe(consumerNode);
      const survivor = NODES.find((n) => n !== leader)!;

      // The publisher too should lose its node: it starts at a random node of the list, so open
      // publishers until one is connected to the leader's node (20 tries: all miss with p < 0.001).
      let pub!: AmqpPublisher;
      for (let i = 0; i < 20; i++) {
        const candidate = new AmqpPublisher(options(q), 5000);
        closers.push(() => candidate.close());
        await candidate.ping();
        pub = candidate;
        if (nodeOfLabel(candidate.node) === leader) break;
      }
      const pubNode = nodeOfLabel(pub.node);
      const TOTAL = 200;
      const EVERY_MS = 100;
      const confirmed = new Set<string>();
      let failedAttempts = 0;
      let maxLatency = 0;
      let lastConfirmAt = 0;
      const send = async (id: string) => {
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const t = Date.now();
          try {
            await pub.publishAdSubmitted(id);
            maxLatency = Math.max(maxLatency, Date.now() - t);
            confirmed.add(id);
            lastConfirmAt = Date.now();
            return;
          } catch {
            // As the scheduler does: a failed publish is simply tried again (a duplicate is harmless).
            failedAttempts++;
            await Bun.sleep(250);
          }
        }
      };
      const sends: Promise<void>[] = [];
      let stopAt = 0;
      let stopping: Promise<unknown> = Promise.resolve();
      try {
        for (let i = 0; i < TOTAL; i++) {
          sends.push(send(`id-${i}`));
          if (i === 60) {
            stopAt = Date.now();
            stopping = ctl(leader, "stop_app");
          }
          await Bun.sleep(EVERY_MS);
        }
        await Promise.all(sends);
        expect((await stopping as { code: number }).code).toBe(0);

        // Re-attached to a surviving node within 60 s of the node going away.
        expect(await waitFor(() => consumer.attached && states.some((s) => s.at >= stopAt && !s.attached) && states.at(-1)!.attached, 60_000, 100)).toBe(true);
        const detachedAt = states.find((s) => s.at >= stopAt && !s.attached)!.at;
        const reattachedAt = states.find((s) => s.at >= detachedAt && s.attached)!.at;
        const nowOn = nodeOfLabel(consumer.node);
        expect(nowOn).toBeDefined();
        expect(nowOn).not.toBe(leader);
        expect(reattachedAt - stopAt).toBeLessThan(60_000);

        // Every confirmed id handled at least once.
        expect(confirmed.size).toBe(TOTAL);
        const allHandled = await waitFor(() => [...confirmed].every((id) => handled.has(id)), 60_000, 100);
        const handledAt = Date.now();
        const missing = [...confirmed].filter((id) => !handled.has(id));
        expect(missing).toEqual([]);
        expect(allHandled).toBe(true);
        const newLeader = await leaderOf(q, nowOn!);
        expect(newLeader).not.toBe(leader);
        const deliveries = [...handled.values()].reduce((a, b) => a + b, 0);
        console.log(
          `[cluster] leader loss: consumer re-attached after ${reattachedAt - detachedAt} ms ` +
            `(detached ${detachedAt - stopAt} ms after stop_app of ${leader} began; ${reattachedAt - stopAt} ms in all; now on ${nowOn}); ` +
            `new leader ${newLeader}; publisher started on ${pubNode}, now on ${nodeOfLabel(pub.node)}; ` +
            `${confirmed.size}/${TOTAL} ids confirmed with ${failedAttempts} failed publish attempts retried, ` +
            `slowest confirm ${maxLatency} ms; ${deliveries - handled.size} duplicate deliveries; ` +
            `last id handled ${Math.max(0, handledAt - lastConfirmAt)} ms after the last confirm (poll 100 ms)`,
        );
      } finally {
        await stopping;
        const t0 = Date.now();
        await ctl(leader, "start_app");
        await ctl(survivor, "await_online_nodes", "3");
        console.log(`[cluster] ${leader} back in ${Date.now() - t0} ms`);
      }
    },
    150_000,
  );

  test(
    "memory alarm on rmq-a: publishes fail fast as blocked, /ready says blocked, a consumer still receives; after clearing, publishes succeed",
    async () => {
      const q = queueName();
      const pub = new AmqpPublisher(options(q), 5000);
      closers.push(() => pub.close());
      for (let i = 0; i < 5; i++) await pub.publishAdSubmitted(`pre-${i}`);
      const alarm = (on: boolean) =>
        ctl(
          "rmq-a@localhost",
          "eval",
          on ? "rabbit_alarm:set_alarm({{resource_limit, memory, node()}, []})." : "rabbit_alarm:clear_alarm({resource_limit, memory, node()}).",
        );
      expect((await alarm(true)).code).toBe(0);
      let cleared = false;
      try {
        // The broker tells a connection it is blocked when it publishes: the first publish fails
        // as soon as that notification arrives, the next ones without touching the network.
        let t = Date.now();
        const first = await rejection(pub.publishAdSubmitted("during-0"));
        const firstMs = Date.now() - t;
        expect([first.reason, first.transient]).toEqual(["blocked", true]);
        expect(firstMs).toBeLessThan(2000); // not the 5 s publish timeout
        expect(pub.blocked).toBe(true);
        t = Date.now();
        const next = await rejection(pub.publishAdSubmitted("during-1"));
        const nextMs = Date.now() - t;
        expect(next.reason).toBe("blocked");
        expect(nextMs).toBeLessThan(50);
        expect(await runChecks({ broker: () => pub.ping() }, 2000)).toEqual({ broker: "blocked" });

        // Consuming is never blocked: a consumer attaches and gets what was published before.
        const handled = new Set<string>();
        const consumer = new AmqpConsumer(options(q), 4, 5000);
        closers.push(() => consumer.stop(2000));
        await consumer.start(async (m) => {
          handled.add(m.adId);
          return { kind: "done" };
        });
        expect(await waitFor(() => [0, 1, 2, 3, 4].every((i) => handled.has(`pre-${i}`)), 10_000)).toBe(true);
        expect(pub.blocked).toBe(true);

        expect((await alarm(false)).code).toBe(0);
        cleared = true;
        const clearedAt = Date.now();
        expect(await waitFor(() => !pub.blocked, 10_000, 10)).toBe(true);
        const unblockMs = Date.now() - clearedAt;
        t = Date.now();
        await pub.publishAdSubmitted("after");
        const afterMs = Date.now() - t;
        expect(await runChecks({ broker: () => pub.ping() }, 2000)).toEqual({ broker: "ok" });
        expect(await waitFor(() => handled.has("after"), 10_000)).toBe(true);
        console.log(
          `[cluster] memory alarm: first publish failed as blocked after ${firstMs} ms, the next in ${nextMs} ms; ` +
            `consumer received the 5 earlier messages while blocked; unblocked ${unblockMs} ms after clear_alarm returned; ` +
            `publish after clearing confirmed in ${afterMs} ms; the publish sent when the alarm hit was ${handled.has("during-0") ? "delivered after all (a harmless duplicate-to-be)" : "not delivered"}`,
        );
      } finally {
        if (!cleared) await alarm(false);
      }
    },
    60_000,
  );

  test(
    "defaults, the binary on the cluster: a memory alarm for 25 s while Imagga fails: no attempt burnt by the blocked broker, every ad decided and e-mailed within 60 s of the alarm's end; then the queue leader's node stopped while ads flow: nothing lost",
    async () => {
      const { startFaultStack, settle, report, RECOVERY_BOUND_MS } = await import("../faults/harness");
      const stack = await startFaultStack({ AMQP_URL: URLS });
      closers.push(() => stack.stop());
      const svc = await stack.start();
      // The scenario: one ad's tagging fails with 503 (its retry must be published while
      // publishers are blocked), the alarm lasts 25 s.
      stack.imagga.faults.failNext(1, 503, null);
      const first = await stack.submit(svc.url);
      expect(first).not.toBeNull();
      expect(await waitFor(async () => (await stack.sql`select 1 from ads where id = ${first!} and attempts = 1`).length === 1, 10_000)).toBe(true);
      const callsBefore = stack.imagga.calls.length;
      expect((await ctl("rmq-a@localhost", "eval", "rabbit_alarm:set_alarm({{resource_limit, memory, node()}, []}).")).code).toBe(0);
      let ids: string[] = [first!];
      try {
        // Intake still answers 201 (the ads wait undispatched) and /ready says the broker is blocked.
        const during = (await Promise.all(Array.from({ length: 3 }, () => stack.submit(svc.url)))) as string[];
        expect(during.filter((x) => x === null)).toHaveLength(0);
        ids = [...ids, ...during];
        expect(await waitFor(async () => ((await (await fetch(`${svc.url}/ready`)).json()) as { checks: Record<string, string> }).checks.broker === "blocked", 10_000)).toBe(true);
        await Bun.sleep(25_000);
      } finally {
        await ctl("rmq-a@localhost", "eval", "rabbit_alarm:clear_alarm({resource_limit, memory, node()}).");
      }
      const duringCalls = stack.imagga.calls.length - callsBefore;
      const r = await settle(stack, ids);
      report("C1", "RabbitMQ memory alarm for 25 s (cluster), one ad's tagging failed with 503 just before", r);
      console.log(`[cluster] memory alarm through the binary: ${duringCalls} Imagga calls during the alarm; all decided and e-mailed ${(r.tookMs / 1000).toFixed(1)} s after it cleared`);
      expect(r.decided).toBe(ids.length);
      expect([r.pending, r.missingEmails, r.duplicateEmails, r.decisionsOverOne]).toEqual([0, 0, 0, 0]);
      expect(r.tookMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      // The retried ad was tried at most once more (when due), never hammered.
      expect(duringCalls).toBeLessThanOrEqual(1);
      const [ad] = await stack.sql<{ attempts: number }[]>`select attempts from ads where id = ${first!}`;
      expect(ad!.attempts).toBe(1);

      // Leader loss while ads flow through the binary.
      const leader = await leaderOf(stack.queue, "rmq-a@localhost");
      expect(leader).toBeDefined();
      const flow: string[] = [];
      let flowing = true;
      const poster = (async () => {
        while (flowing) {
          const id = await stack.submit(svc.url);
          if (id) flow.push(id);
          await Bun.sleep(100);
        }
      })();
      await Bun.sleep(2000);
      expect((await ctl(leader!, "stop_app")).code).toBe(0);
      try {
        await Bun.sleep(5000);
      } finally {
        flowing = false;
        await poster;
      }
      const r2 = await settle(stack, flow);
      await ctl(leader!, "start_app");
      report("C2", `queue leader ${leader} stopped while ${flow.length} ads flowed`, r2);
      expect(flow.length).toBeGreaterThan(20);
      expect(r2.decided).toBe(flow.length);
      expect([r2.pending, r2.missingEmails, r2.duplicateEmails, r2.decisionsOverOne]).toEqual([0, 0, 0, 0]);
      expect(r2.tookMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    },
    180_000,
  );
});
