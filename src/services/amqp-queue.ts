import amqp from "amqplib";
import { splitAmqpUrls } from "../config";
import { DependencyError } from "./errors";
import type { Logger } from "./logger";
import type { AdConsumer, AdMessage, AdPublisher, Outcome } from "./queue";

export type QueueType = "quorum" | "classic";

export interface AmqpOptions {
  /** One node URL, several separated by commas (a cluster's nodes: `amqp://…@h1,amqp://…@h2`), or a list. */
  url: string | readonly string[];
  queue: string;
  /** Ignored; kept so older callers compile. Retries are scheduled by the database now (see queue.ts). */
  retryDelaysMs?: number[];
  /** Type of the queues declared here when they do not exist yet (default quorum). */
  queueType?: QueueType;
  /**
   * Whether `queueType` was configured (AMQP_QUEUE_TYPE). If not, an existing classic queue is used
   * as it is, with a warning; if it was, a queue of the other type is an error naming the way out.
   */
  queueTypeExplicit?: boolean;
  /** Quorum work queue: deliveries after which the broker dead-letters a message itself (default 20). */
  deliveryLimit?: number;
  log: Logger;
  connectTimeoutMs?: number;
}

/** Second guard against poison messages on a quorum work queue (the handler's own budget comes first). */
export const DEFAULT_DELIVERY_LIMIT = 20;
/** Longest a `later` delivery is held unacked before it goes back to the queue. */
export const MAX_LATER_MS = 30_000;
/** Pause before a delivery whose outcome could not be carried out goes back to the queue (no hot loop). */
export const REQUEUE_PAUSE_MS = 1_000;
/** Cap of the consumer's reconnect backoff: the service promises recovery within 60 s of the broker's return. */
export const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * The queue layout: `<q>` (work) and `<q>.dead` (ids that failed for good, for operators).
 * Retries are not the broker's business any more: the database holds each ad's next due time
 * and the worker's scheduler publishes due work to `<q>`.
 *
 * Deployments from before that change may still have `<q>.retry.<ms>` queues (a message TTL,
 * dead-lettering into `<q>`). Nothing declares or publishes to them now; the messages in them
 * expire into `<q>` and are handled like any other delivery, so they drain by themselves. Delete
 * them once they are empty (`rabbitmqctl delete_queue ads.retry.5000`, …).
 */
export function topology(queue: string, _legacyRetryDelays?: unknown) {
  return { work: queue, dead: `${queue}.dead` };
}

/**
 * The arguments a queue is declared with. A quorum work queue dead-letters a message into
 * `<q>.dead` by itself after `deliveryLimit` deliveries (a crash loop the handler never gets to
 * count); `at-least-once` dead-lettering (it needs `x-overflow: reject-publish` in 3.10+) keeps
 * such a message until `<q>.dead` has confirmed it. A classic queue gets only its type, so the
 * queues of existing classic deployments (declared without arguments) stay equivalent.
 */
export function queueArguments(role: "work" | "dead", type: QueueType, queue: string, deliveryLimit = DEFAULT_DELIVERY_LIMIT): Record<string, unknown> {
  if (type === "classic") return { "x-queue-type": "classic" };
  if (role === "dead") return { "x-queue-type": "quorum" };
  return {
    "x-queue-type": "quorum",
    "x-delivery-limit": deliveryLimit,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": topology(queue).dead,
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
  };
}

/** A broker failure that no retry fixes (a queue of the wrong type or arguments); /ready says "misconfigured". */
function misconfigured(message: string): DependencyError {
  return Object.assign(new DependencyError("broker", message, false, "queue_mismatch"), { readiness: "misconfigured" });
}

export function isMisconfigured(err: unknown): boolean {
  return err instanceof DependencyError && err.reason === "queue_mismatch";
}

function blockedError(): DependencyError {
  return Object.assign(new DependencyError("broker", "the broker is blocking publishes (a resource alarm: memory or disk)", true, "blocked"), { readiness: "blocked" });
}

const MIGRATION_HINT = 'see the README, "Moving a classic deployment to quorum queues"';

/**
 * Declares `<q>.dead` and `<q>` with the configured type. Each declaration uses a channel of its
 * own, because a refused one (PRECONDITION_FAILED, 406) closes its channel. Remembers what each
 * queue turned out to be, so a fallback to an existing classic queue is warned about once.
 */
export class Topology {
  private readonly typeOf = new Map<string, QueueType>();

  constructor(private readonly opts: AmqpOptions) {}

  async declare(conn: amqp.ChannelModel): Promise<void> {
    const t = topology(this.opts.queue);
    await this.declareOne(conn, t.dead, "dead");
    await this.declareOne(conn, t.work, "work");
  }

  /** The type each queue was declared with so far (for tests and logs). */
  typeOfQueue(name: string): QueueType | undefined {
    return this.typeOf.get(name);
  }

  private async declareOne(conn: amqp.ChannelModel, name: string, role: "work" | "dead"): Promise<void> {
    const configured = this.opts.queueType ?? "quorum";
    const wanted = this.typeOf.get(name) ?? configured;
    const args = (type: QueueType) => queueArguments(role, type, this.opts.queue, this.opts.deliveryLimit);
    const refused = await tryDeclare(conn, name, args(wanted));
    if (!refused) {
      this.typeOf.set(name, wanted);
      return;
    }
    // The queue exists with other arguments. Find out whether it is of the other type.
    const other: QueueType = wanted === "quorum" ? "classic" : "quorum";
    const asOther = await tryDeclare(conn, name, args(other));
    if (!asOther && other === "classic" && !this.opts.queueTypeExplicit) {
      if (this.typeOf.get(name) !== "classic") {
        this.opts.log.warn(
          `queue "${name}" exists as a classic queue: using it as it is (AMQP_QUEUE_TYPE is not set; new queues are quorum). ` +
            `To move it to a quorum queue: stop every copy of the service, let "${name}" drain, delete it, and start again with AMQP_QUEUE_TYPE=quorum; ${MIGRATION_HINT}`,
          { queue: name },
        );
      }
      this.typeOf.set(name, "classic");
      return;
    }
    if (!asOther && other === "classic") {
      throw misconfigured(
        `queue "${name}" exists as a classic queue, but AMQP_QUEUE_TYPE=quorum, and RabbitMQ cannot change a queue's type in place. ` +
          `Either unset AMQP_QUEUE_TYPE (or set it to classic) to go on using the classic queue, or move over: stop every copy of the service, ` +
          `let "${name}" drain, delete it, and start again (it is then created as a quorum queue); ${MIGRATION_HINT}`,
      );
    }
    if (!asOther) {
      throw misconfigured(`queue "${name}" exists as a quorum queue, but AMQP_QUEUE_TYPE=classic: unset AMQP_QUEUE_TYPE or set it to quorum`);
    }
    throw misconfigured(
      `queue "${name}" exists with arguments this service does not declare (${refused.message.replace(/^.*?PRECONDITION_FAILED - /s, "")}); ` +
        `drain and delete it, or set AMQP_QUEUE to a new name; ${MIGRATION_HINT}`,
    );
  }
}

/** Declares a durable queue on a channel of its own: null when done, the broker's refusal (406) otherwise. */
async function tryDeclare(conn: amqp.ChannelModel, name: string, args: Record<string, unknown>): Promise<Error | null> {
  const ch = await conn.createChannel();
  ch.on("error", () => {
    /* a refused declaration closes the channel; the rejection below reports it */
  });
  try {
    await ch.assertQueue(name, { durable: true, arguments: args });
  } catch (err) {
    if ((err as { code?: number }).code === 406) return err as Error;
    throw err;
  }
  await ch.close().catch(() => {});
  return null;
}

/** `host:port` of a node URL (never its credentials), for logs. */
export function nodeLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === "amqps:" ? "5671" : "5672")}`;
  } catch {
    return "?";
  }
}

/**
 * The broker's nodes. amqplib takes one URL per connection, so connecting tries them in turn,
 * starting from a random one (copies of the service spread over the nodes) and moving on to the
 * next on failure; after a lost connection the next attempt starts at the following node.
 */
export class NodeList {
  readonly urls: string[];
  private next: number;

  constructor(url: string | readonly string[]) {
    this.urls = typeof url === "string" ? splitAmqpUrls(url) : url.flatMap((u) => splitAmqpUrls(u));
    if (!this.urls.length) throw new Error("no AMQP URL");
    this.next = Math.floor(Math.random() * this.urls.length);
  }

  async connect(timeoutMs: number): Promise<{ conn: amqp.ChannelModel; index: number; node: string }> {
    const errors: string[] = [];
    let last: unknown;
    for (let i = 0; i < this.urls.length; i++) {
      const index = (this.next + i) % this.urls.length;
      const url = this.urls[index]!;
      try {
        const conn = await amqp.connect(url, { timeout: timeoutMs });
        this.next = index;
        return { conn, index, node: nodeLabel(url) };
      } catch (err) {
        last = err;
        errors.push(`${nodeLabel(url)}: ${(err as Error).message}`);
      }
    }
    this.next = (this.next + 1) % this.urls.length;
    if (this.urls.length === 1) throw last;
    throw new Error(`no broker node answered (${errors.join("; ")})`, { cause: last });
  }

  /** The connection to node `index` was lost: the next attempt starts at the following node. */
  lost(index: number): void {
    if (this.next === index) this.next = (index + 1) % this.urls.length;
  }
}

function encode(adId: string): Buffer {
  return Buffer.from(JSON.stringify({ adId }));
}

/** Parses a delivery; null when the body is not one of ours (it goes to the dead-letter queue). */
export function decodeMessage(msg: amqp.ConsumeMessage): AdMessage | null {
  try {
    const body = JSON.parse(msg.content.toString("utf8")) as { adId?: unknown };
    if (typeof body.adId !== "string" || body.adId.length > 100) return null;
    // Quorum queues count deliveries in `x-delivery-count`; a classic queue only says "redelivered".
    const count = Number(msg.properties.headers?.["x-delivery-count"] ?? (msg.fields.redelivered ? 1 : 0));
    return { adId: body.adId, retries: Number.isFinite(count) && count >= 0 ? count : 0 };
  } catch {
    return null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyError("broker", `${what} timed out after ${ms} ms`, true, "timeout")), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function brokerError(what: string, err: unknown): DependencyError {
  if (err instanceof DependencyError) return err;
  return new DependencyError("broker", `${what}: ${(err as Error).message}`, true, "unavailable", { cause: err });
}

interface PendingPublish {
  reject: (err: unknown) => void;
  /** The broker sent the message back (basic.return arrives before the confirm's ack). */
  returned: boolean;
}

/**
 * One long-lived connection with a confirm channel, opened on first use and reopened after a
 * failure (on the next node of the list). Every publish is `mandatory` and waits for the broker's
 * confirm, bounded by `timeoutMs`; a message the broker returns as unroutable (its queue was
 * deleted) is a failed publish, and the topology is declared again before the next one. While
 * the broker blocks the connection (a memory or disk alarm), publishes fail at once.
 */
export class AmqpPublisher implements AdPublisher {
  private conn: amqp.ChannelModel | null = null;
  private ch: amqp.ConfirmChannel | null = null;
  private opening: Promise<amqp.ConfirmChannel> | null = null;
  private closed = false;
  /** After a failed connect, fail fast until this time instead of every request dialling a dead broker. */
  private retryAt = 0;
  private failures = 0;
  /** Why the last open failed, if no retry can fix it (a queue of the wrong type): repeated while backing off. */
  private lastOpenError: DependencyError | null = null;
  /** The connection the broker said is blocked, until it says unblocked. */
  private blockedConn: amqp.ChannelModel | null = null;
  /** A publish came back unroutable: declare the topology again before the next one. */
  private stale = false;
  private readonly pending = new Map<string, PendingPublish>();
  private seq = 0;
  private readonly prefix = crypto.randomUUID().slice(0, 8);
  private readonly nodes: NodeList;
  private readonly topo: Topology;
  private connectedNode: string | null = null;

  constructor(
    private readonly opts: AmqpOptions,
    private readonly timeoutMs: number,
    topo?: Topology,
  ) {
    this.nodes = new NodeList(opts.url);
    this.topo = topo ?? new Topology(opts);
  }

  /** True while the broker blocks this publisher's connection (a resource alarm). */
  get blocked(): boolean {
    return this.blockedConn !== null && this.blockedConn === this.conn;
  }

  /** `host:port` of the node this publisher is connected to, or null. */
  get node(): string | null {
    return this.conn ? this.connectedNode : null;
  }

  private channel(): Promise<amqp.ConfirmChannel> {
    if (this.ch && !this.stale) return Promise.resolve(this.ch);
    if (this.closed) return Promise.reject(new DependencyError("broker", "publisher is closed", true, "closed"));
    if (this.opening) return this.opening;
    if (this.ch && this.conn) {
      // Something was returned unroutable: declare the topology again on the open connection.
      const ch = this.ch;
      this.opening = this.topo
        .declare(this.conn)
        .then(() => {
          this.stale = false;
          return ch;
        })
        .finally(() => {
          this.opening = null;
        });
      return this.opening;
    }
    if (Date.now() < this.retryAt) {
      return Promise.reject(this.lastOpenError ?? new DependencyError("broker", "broker unavailable (backing off)", true, "unavailable"));
    }
    this.opening = this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async open(): Promise<amqp.ConfirmChannel> {
    const log = this.opts.log;
    let conn: amqp.ChannelModel | null = null;
    try {
      const got = await this.nodes.connect(this.opts.connectTimeoutMs ?? 5000);
      const c = (conn = got.conn);
      if ((c as unknown as { connection?: { blocked?: boolean } }).connection?.blocked) this.blockedConn = c;
      c.on("error", (err) => log.warn("broker connection error", { err, node: got.node }));
      c.on("close", () => {
        if (this.blockedConn === c) this.blockedConn = null;
        if (this.conn === c) {
          this.conn = null;
          this.ch = null;
          this.nodes.lost(got.index);
        }
      });
      c.on("blocked", (reason: string) => this.onBlocked(c, reason, got.node));
      c.on("unblocked", () => {
        if (this.blockedConn !== c) return;
        this.blockedConn = null;
        log.info("broker unblocked publishing", { node: got.node });
      });
      const ch = await c.createConfirmChannel();
      ch.on("error", (err) => log.warn("broker channel error", { err }));
      ch.on("close", () => {
        // A channel closed by the broker (e.g. an error) takes its connection with it, so
        // the next publish opens both afresh instead of leaking the old connection.
        if (this.ch === ch) {
          this.ch = null;
          this.conn = null;
          c.close().catch(() => {});
        }
      });
      ch.on("return", (m: amqp.Message) => this.onReturn(m));
      await this.topo.declare(c);
      if (this.closed) throw new DependencyError("broker", "publisher is closed", true, "closed");
      this.conn = c;
      this.ch = ch;
      this.stale = false;
      this.failures = 0;
      this.lastOpenError = null;
      this.connectedNode = got.node;
      return ch;
    } catch (err) {
      await conn?.close().catch(() => {});
      this.lastOpenError = isMisconfigured(err) ? (err as DependencyError) : null;
      this.failures++;
      this.retryAt = Date.now() + Math.min(5000, 250 * 2 ** Math.min(this.failures - 1, 5));
      throw err;
    }
  }

  private onBlocked(c: amqp.ChannelModel, reason: string, node: string): void {
    this.blockedConn = c;
    this.opts.log.warn("broker blocked publishing (resource alarm); publishes fail at once until it lifts", { reason, node });
    // Publishes already sent wait for a confirm that comes only after the alarm: fail them now.
    // (The broker may still take them later: a duplicate, which the handler tolerates.)
    for (const p of this.pending.values()) p.reject(blockedError());
  }

  private onReturn(m: amqp.Message): void {
    const id = m.properties.correlationId as string | undefined;
    const p = id ? this.pending.get(id) : undefined;
    if (p) p.returned = true;
    this.stale = true;
    this.opts.log.warn("broker returned a message as unroutable; declaring the queues again before the next publish", {
      queue: m.fields.routingKey,
      reply: (m.fields as { replyText?: string }).replyText,
    });
  }

  /** Publishes to a queue (mandatory, persistent) and waits for the confirm. */
  async publishTo(queue: string, adId: string, headers: Record<string, unknown> = {}): Promise<void> {
    if (this.blocked) throw blockedError();
    const attempt = async () => {
      const ch = await this.channel();
      if (this.blocked) throw blockedError();
      // A per-publish id: a returned message is matched to its publish by it.
      const correlationId = `${this.prefix}-${++this.seq}`;
      await new Promise<void>((resolve, reject) => {
        const p: PendingPublish = { reject, returned: false };
        this.pending.set(correlationId, p);
        try {
          ch.sendToQueue(
            queue,
            encode(adId),
            { persistent: true, mandatory: true, contentType: "application/json", messageId: adId, correlationId, headers },
            (err) => {
              this.pending.delete(correlationId);
              if (err) reject(err instanceof Error ? err : new Error("broker nacked the message"));
              else if (p.returned) {
                reject(new DependencyError("broker", `the broker returned the message: no queue "${queue}" (deleted?); it is declared again before the next publish`, true, "unroutable"));
              } else resolve();
            },
          );
        } catch (err) {
          this.pending.delete(correlationId);
          reject(err);
        }
      });
    };
    try {
      await withTimeout(attempt(), this.timeoutMs, "publish");
    } catch (err) {
      throw brokerError("publish failed", err);
    }
  }

  publishAdSubmitted(adId: string): Promise<void> {
    return this.publishTo(this.opts.queue, adId);
  }

  async ping(): Promise<void> {
    if (this.blocked) throw blockedError();
    try {
      const ch = await withTimeout(this.channel(), this.timeoutMs, "connect");
      await withTimeout(ch.checkQueue(this.opts.queue), this.timeoutMs, "check queue");
    } catch (err) {
      throw brokerError("broker unreachable", err);
    }
  }

  /** Ready messages in the work and dead-letter queues (for metrics), or null when the broker is unreachable. */
  async depths(): Promise<{ work: number; dead: number } | null> {
    // A blocked connection is not read by the broker: a query would only wait for the timeout.
    if (this.blocked) return null;
    try {
      const t = topology(this.opts.queue);
      const ch = await withTimeout(this.channel(), this.timeoutMs, "connect");
      const [work, dead] = await withTimeout(Promise.all([ch.checkQueue(t.work), ch.checkQueue(t.dead)]), this.timeoutMs, "check queue");
      return { work: work.messageCount, dead: dead.messageCount };
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = null;
    this.ch = null;
    await conn?.close().catch(() => {});
  }
}

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
