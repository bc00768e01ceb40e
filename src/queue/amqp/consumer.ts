/**
 * The consumer of the work queue: attaching with manual acks and a prefetch, reconnecting (with
 * backoff, over the node list) after a lost connection or a cancelled consumer, and carrying out
 * the handler's outcomes (`done`, `later`, `dead`) without ever losing a message.
 */
import type amqp from "amqplib";
import type { AdConsumer, AdMessage, Outcome } from "../queue";
import { decodeMessage } from "./messages";
import { NodeList } from "./nodes";
import type { AmqpOptions } from "./options";
import { AmqpPublisher } from "./publisher";
import { isMisconfigured, Topology, topology } from "./topology";

/** Longest a `later` delivery is held unacked before it goes back to the queue. */
export const MAX_LATER_MS = 30_000;
/** Pause before a delivery whose outcome could not be carried out goes back to the queue (no hot loop). */
export const REQUEUE_PAUSE_MS = 1_000;
/** Cap of the consumer's reconnect backoff: the service promises recovery within 60 s of the broker's return. */
export const MAX_RECONNECT_DELAY_MS = 5_000;

function settle(ch: amqp.Channel, m: amqp.ConsumeMessage, how: "ack" | "requeue"): void {
  try {
    if (how === "ack") ch.ack(m);
    else ch.nack(m, false, true);
  } catch {
    /* channel already gone: the broker requeues the message anyway */
  }
}

/**
 * Consumes the work queue with manual acks and a prefetch of `concurrency`, and keeps doing so
 * across broker restarts, node losses and consumer cancellations (the queue deleted): it
 * reconnects (to the next node of the list) with a backoff capped at 5 s, declares the topology
 * again and re-attaches. Outcomes: `done` acks; `later` holds the message unacked (at most 30 s,
 * less on shutdown), then returns it to the queue; `dead` publishes the id to `<q>.dead` with a
 * confirm, then acks, so a crash in between duplicates, never loses. If an outcome cannot be
 * carried out, the message goes back to the queue after a pause (never lost, never a hot loop).
 */
export class AmqpConsumer implements AdConsumer {
  private conn: amqp.ChannelModel | null = null;
  private ch: amqp.Channel | null = null;
  private tag: string | null = null;
  private handle: ((msg: AdMessage) => Promise<Outcome>) | null = null;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly ownPublisher: AmqpPublisher;
  private readonly nodes: NodeList;
  private readonly topo: Topology;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private connectedNode: string | null = null;
  /** Wakes the `later` pauses on shutdown. */
  private readonly wakers = new Set<() => void>();
  /** Called on every (re)attach and loss, so the host can report readiness. */
  onStateChange: (attached: boolean) => void = () => {};
  /** Called when the broker cancels the consumer (its queue is gone, and the messages with it). */
  onQueueLost: () => void = () => {};
  readonly inMemory = false;

  constructor(
    private readonly opts: AmqpOptions,
    private readonly concurrency: number,
    private readonly publishTimeoutMs: number,
  ) {
    this.nodes = new NodeList(opts.url);
    this.topo = new Topology(opts);
    this.ownPublisher = new AmqpPublisher(opts, publishTimeoutMs, this.topo);
  }

  /**
   * Starts consuming; a broker that is down now is retried in the background (never fatal). A
   * queue of the wrong type is: no retry fixes it, so it is thrown (the worker then fails to start).
   */
  async start(handle: (msg: AdMessage) => Promise<Outcome>): Promise<void> {
    this.handle = handle;
    try {
      await this.attach();
    } catch (err) {
      if (isMisconfigured(err)) {
        this.opts.log.error("cannot use the broker's queues", { err });
        throw err;
      }
      this.opts.log.warn("broker unreachable at start; will keep trying", { err });
      this.scheduleReconnect();
    }
  }

  get attached(): boolean {
    return this.tag !== null;
  }

  /** `host:port` of the node the consumer is attached through, or null. */
  get node(): string | null {
    return this.attached ? this.connectedNode : null;
  }

  private async attach(): Promise<void> {
    const log = this.opts.log;
    const { conn, index, node } = await this.nodes.connect(this.opts.connectTimeoutMs ?? 5000);
    try {
      conn.on("error", (err) => log.warn("broker connection error", { err, node }));
      conn.on("close", () => this.lost(conn, index));
      await this.topo.declare(conn);
      const ch = await conn.createChannel();
      ch.on("error", (err) => log.warn("broker channel error", { err, node }));
      ch.on("close", () => this.lost(conn, index));
      await ch.prefetch(this.concurrency);
      this.conn = conn;
      this.ch = ch;
      // amqplib calls back with null when the broker cancels the consumer (basic.cancel: the
      // queue was deleted, or its node went away).
      const { consumerTag } = await ch.consume(this.opts.queue, (m) => (m ? this.deliver(ch, m) : this.cancelled(conn, index)), { noAck: false });
      if (this.conn !== conn) throw new Error("connection lost while attaching");
      this.tag = consumerTag;
    } catch (err) {
      if (this.conn === conn) {
        this.conn = null;
        this.ch = null;
      }
      await conn.close().catch(() => {});
      throw err;
    }
    this.failures = 0;
    this.connectedNode = node;
    if (this.stopping) {
      // stop() ran while this attach was under way: it found nothing to cancel.
      this.tag = null;
      this.conn = null;
      this.ch = null;
      await conn.close().catch(() => {});
      return;
    }
    log.info("consumer attached", { queue: this.opts.queue, prefetch: this.concurrency, node });
    this.onStateChange(true);
  }

  private cancelled(conn: amqp.ChannelModel, index: number): void {
    if (this.conn !== conn || this.stopping) return;
    this.opts.log.warn("the broker cancelled the consumer (queue deleted or its node lost); declaring the queues again and re-attaching", { queue: this.opts.queue });
    this.lost(conn, index);
    this.onQueueLost();
  }

  private lost(conn: amqp.ChannelModel, index: number): void {
    if (this.conn !== conn) return;
    this.conn = null;
    this.ch = null;
    this.tag = null;
    this.nodes.lost(index);
    this.onStateChange(false);
    conn.close().catch(() => {});
    if (!this.stopping) this.scheduleReconnect();
  }

  /** Exponential backoff from 0.5 s, capped at 5 s, each delay drawn from its upper half (jitter). */
  static reconnectDelay(failures: number): number {
    const base = Math.min(MAX_RECONNECT_DELAY_MS, 500 * 2 ** Math.min(failures, 10));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.stopping) return;
    const delay = AmqpConsumer.reconnectDelay(this.failures);
    this.failures++;
    this.opts.log.warn("broker connection lost; reconnecting", { delay_ms: delay, attempt: this.failures });
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.attach();
      } catch (err) {
        if (isMisconfigured(err)) this.opts.log.error("cannot use the broker's queues", { err });
        else this.opts.log.warn("broker reconnect failed", { err });
        this.scheduleReconnect();
      }
    }, delay);
  }

  private deliver(ch: amqp.Channel, m: amqp.ConsumeMessage): void {
    const p = this.process(ch, m).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Waits `ms`, or less if the consumer stops meanwhile. */
  private pause(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  private async process(ch: amqp.Channel, m: amqp.ConsumeMessage): Promise<void> {
    const log = this.opts.log;
    const msg = decodeMessage(m);
    const t = topology(this.opts.queue);
    try {
      if (!msg) {
        log.error("unreadable message moved to the dead-letter queue");
        await this.ownPublisher.publishTo(t.dead, "unreadable", { "x-reason": "unreadable", "x-body": m.content.toString("base64").slice(0, 1000) });
        settle(ch, m, "ack");
        return;
      }
      const outcome = await this.handle!(msg);
      if (outcome.kind === "later") {
        // Nothing could be recorded: hold the message (it stays ours, not redelivered elsewhere
        // at once), then hand the queue a fresh copy and ack this one. A nack-requeue would count
        // as a delivery on a quorum queue (RabbitMQ 3.10-4.2), so a long database outage would
        // push waiting ids past x-delivery-limit into the dead-letter queue. If the fresh copy
        // cannot be published, the message is returned instead.
        await this.pause(Math.min(Math.max(0, outcome.delayMs), MAX_LATER_MS));
        if (this.stopping) {
          // Shutting down (the consumer is already cancelled): just give the message back.
          settle(ch, m, "requeue");
          return;
        }
        try {
          await this.ownPublisher.publishTo(t.work, msg.adId);
          settle(ch, m, "ack");
        } catch {
          settle(ch, m, "requeue");
        }
        return;
      }
      if (outcome.kind === "dead") {
        await this.ownPublisher.publishTo(t.dead, msg.adId, { "x-delivery-count": msg.retries, "x-reason": outcome.reason.slice(0, 500) });
      }
      settle(ch, m, "ack");
    } catch (err) {
      // The outcome could not be carried out (the dead-letter publish failed: broker down,
      // blocked or the queue gone). Return the message after a pause; the handler is idempotent.
      log.error("message returned to the queue", { ad_id: msg?.adId, err });
      await this.pause(REQUEUE_PAUSE_MS);
      settle(ch, m, "requeue");
    }
  }

  /** A publisher (its own connection) into this consumer's queue, for the worker's scheduler. */
  publisher(): AmqpPublisher {
    return new AmqpPublisher(this.opts, this.publishTimeoutMs, this.topo);
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ch = this.ch;
    if (ch && this.tag) await ch.cancel(this.tag).catch(() => {});
    this.tag = null;
    for (const wake of [...this.wakers]) wake();
    const drained = Promise.allSettled([...this.inFlight]);
    await Promise.race([drained, new Promise((r) => setTimeout(r, timeoutMs))]);
    const conn = this.conn;
    this.conn = null;
    this.ch = null;
    // Closing the connection returns any still-unacked message to the queue.
    await conn?.close().catch(() => {});
    await this.ownPublisher.close();
  }
}
