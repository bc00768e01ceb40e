import amqp from "amqplib";
import { DependencyError } from "./errors";
import type { Logger } from "./logger";
import type { AdConsumer, AdMessage, AdPublisher, Outcome } from "./queue";

export interface AmqpOptions {
  url: string;
  queue: string;
  /** Delays of the retry queues; a retry outcome picks the smallest queue at or above its delay. */
  retryDelaysMs: number[];
  log: Logger;
  connectTimeoutMs?: number;
}

/**
 * The queue layout: `<q>` (work), `<q>.retry.<ms>` (one per backoff step: messages wait out the
 * TTL, then dead-letter back into `<q>`), `<q>.dead` (permanently failed, for operators).
 * Retry queues need no delayed-message plugin, so this works on RabbitMQ 3.10 and every 4.x.
 */
export function topology(queue: string, delays: number[]) {
  return {
    work: queue,
    dead: `${queue}.dead`,
    retries: [...new Set(delays)].sort((a, b) => a - b).map((ms) => ({ ms, name: `${queue}.retry.${ms}` })),
  };
}

async function declare(ch: amqp.Channel, queue: string, delays: number[]) {
  const t = topology(queue, delays);
  await ch.assertQueue(t.work, { durable: true });
  await ch.assertQueue(t.dead, { durable: true });
  for (const r of t.retries) {
    await ch.assertQueue(r.name, {
      durable: true,
      arguments: { "x-message-ttl": r.ms, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": t.work },
    });
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
    const retries = Number(msg.properties.headers?.["x-retries"] ?? 0);
    return { adId: body.adId, retries: Number.isFinite(retries) ? retries : 0 };
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

/**
 * One long-lived connection with a confirm channel, opened on first use and reopened after a
 * failure. Every publish waits for the broker's confirm, bounded by `timeoutMs`.
 */
export class AmqpPublisher implements AdPublisher {
  private conn: amqp.ChannelModel | null = null;
  private ch: amqp.ConfirmChannel | null = null;
  private opening: Promise<amqp.ConfirmChannel> | null = null;
  private closed = false;
  /** After a failed connect, fail fast until this time instead of every request dialling a dead broker. */
  private retryAt = 0;
  private failures = 0;

  constructor(
    private readonly opts: AmqpOptions,
    private readonly timeoutMs: number,
  ) {}

  private channel(): Promise<amqp.ConfirmChannel> {
    if (this.ch) return Promise.resolve(this.ch);
    if (this.closed) return Promise.reject(new DependencyError("broker", "publisher is closed", true, "closed"));
    if (!this.opening && Date.now() < this.retryAt) {
      return Promise.reject(new DependencyError("broker", "broker unavailable (backing off)", true, "unavailable"));
    }
    this.opening ??= (async () => {
      let conn: amqp.ChannelModel | null = null;
      try {
        conn = await amqp.connect(this.opts.url, { timeout: this.opts.connectTimeoutMs ?? 5000 });
        conn.on("error", (err) => this.opts.log.warn("broker connection error", { err }));
        const c = conn;
        conn.on("close", () => {
          if (this.conn === c) {
            this.conn = null;
            this.ch = null;
          }
        });
        const ch = await conn.createConfirmChannel();
        ch.on("error", (err) => this.opts.log.warn("broker channel error", { err }));
        ch.on("close", () => {
          // A channel closed by the broker (e.g. an error) takes its connection with it, so
          // the next publish opens both afresh instead of leaking the old connection.
          if (this.ch === ch) {
            this.ch = null;
            this.conn = null;
            c.close().catch(() => {});
          }
        });
        await declare(ch, this.opts.queue, this.opts.retryDelaysMs);
        this.conn = conn;
        this.ch = ch;
        this.failures = 0;
        return ch;
      } catch (err) {
        await conn?.close().catch(() => {});
        this.failures++;
        this.retryAt = Date.now() + Math.min(5000, 250 * 2 ** Math.min(this.failures - 1, 5));
        throw err;
      } finally {
        this.opening = null;
      }
    })();
    return this.opening;
  }

  /** Publishes to a queue and waits for the confirm. */
  async publishTo(queue: string, adId: string, headers: Record<string, unknown> = {}, expirationMs?: number): Promise<void> {
    const attempt = async () => {
      const ch = await this.channel();
      await new Promise<void>((resolve, reject) => {
        ch.sendToQueue(
          queue,
          encode(adId),
          {
            persistent: true,
            contentType: "application/json",
            messageId: adId,
            headers,
            ...(expirationMs !== undefined ? { expiration: String(expirationMs) } : {}),
          },
          (err) => (err ? reject(new Error("broker nacked the message")) : resolve()),
        );
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
    try {
      const ch = await withTimeout(this.channel(), this.timeoutMs, "connect");
      await withTimeout(ch.checkQueue(this.opts.queue), this.timeoutMs, "check queue");
    } catch (err) {
      throw brokerError("broker unreachable", err);
    }
  }

  /** Ready messages in the work and dead-letter queues (for metrics), or null when the broker is unreachable. */
  async depths(): Promise<{ work: number; dead: number } | null> {
    try {
      const t = topology(this.opts.queue, []);
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

/**
 * Consumes the work queue with manual acks and a prefetch of `concurrency`, and keeps doing so
 * across broker restarts: on a lost connection it reconnects with backoff, re-declares the
 * topology and re-attaches the consumer. Retry and dead-letter outcomes are published (with
 * confirms) before the original delivery is acked, so a crash in between duplicates, never loses.
 */
export class AmqpConsumer implements AdConsumer {
  private conn: amqp.ChannelModel | null = null;
  private ch: amqp.Channel | null = null;
  private tag: string | null = null;
  private handle: ((msg: AdMessage) => Promise<Outcome>) | null = null;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly publisher: AmqpPublisher;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  /** Called on every (re)attach and loss, so the host can report readiness. */
  onStateChange: (attached: boolean) => void = () => {};

  constructor(
    private readonly opts: AmqpOptions,
    private readonly concurrency: number,
    publishTimeoutMs: number,
  ) {
    this.publisher = new AmqpPublisher(opts, publishTimeoutMs);
  }

  /** Starts consuming; a broker that is down now is retried in the background (never fatal). */
  async start(handle: (msg: AdMessage) => Promise<Outcome>): Promise<void> {
    this.handle = handle;
    try {
      await this.attach();
    } catch (err) {
      this.opts.log.warn("broker unreachable at start; will keep trying", { err });
      this.scheduleReconnect();
    }
  }

  get attached(): boolean {
    return this.tag !== null;
  }

  private async attach(): Promise<void> {
    const log = this.opts.log;
    const conn = await amqp.connect(this.opts.url, { timeout: this.opts.connectTimeoutMs ?? 5000 });
    try {
      conn.on("error", (err) => log.warn("broker connection error", { err }));
      conn.on("close", () => this.lost(conn));
      const ch = await conn.createChannel();
      ch.on("error", (err) => log.warn("broker channel error", { err }));
      ch.on("close", () => this.lost(conn));
      await declare(ch, this.opts.queue, this.opts.retryDelaysMs);
      await ch.prefetch(this.concurrency);
      this.conn = conn;
      this.ch = ch;
      const { consumerTag } = await ch.consume(this.opts.queue, (m) => m && this.deliver(ch, m), { noAck: false });
      this.tag = consumerTag;
    } catch (err) {
      this.conn = null;
      this.ch = null;
      await conn.close().catch(() => {});
      throw err;
    }
    this.failures = 0;
    log.info("consumer attached", { queue: this.opts.queue, prefetch: this.concurrency });
    this.onStateChange(true);
  }

  private lost(conn: amqp.ChannelModel): void {
    if (this.conn !== conn) return;
    this.conn = null;
    this.ch = null;
    this.tag = null;
    this.onStateChange(false);
    conn.close().catch(() => {});
    if (!this.stopping) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.stopping) return;
    const base = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.failures++;
    this.opts.log.warn("broker connection lost; reconnecting", { delay_ms: delay, attempt: this.failures });
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.attach();
      } catch (err) {
        this.opts.log.warn("broker reconnect failed", { err });
        this.scheduleReconnect();
      }
    }, delay);
  }

  private deliver(ch: amqp.Channel, m: amqp.ConsumeMessage): void {
    const p = this.process(ch, m).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async process(ch: amqp.Channel, m: amqp.ConsumeMessage): Promise<void> {
    const log = this.opts.log;
    const msg = decodeMessage(m);
    const t = topology(this.opts.queue, this.opts.retryDelaysMs);
    try {
      if (!msg) {
        log.error("unreadable message moved to the dead-letter queue");
        await this.publisher.publishTo(t.dead, "unreadable", { "x-reason": "unreadable", "x-body": m.content.toString("base64").slice(0, 1000) });
        ch.ack(m);
        return;
      }
      const outcome = await this.handle!(msg);
      if (outcome.kind === "retry") {
        const q = t.retries.find((r) => r.ms >= outcome.delayMs) ?? t.retries[t.retries.length - 1]!;
        // Jitter: expire up to 20% early. Messages only expire at the head of a queue, so a
        // shorter one behind a longer one waits at most that difference.
        const expiration = Math.max(1, Math.round(q.ms * (0.8 + Math.random() * 0.2)));
        await this.publisher.publishTo(q.name, msg.adId, { "x-retries": msg.retries + 1 }, expiration);
      } else if (outcome.kind === "dead") {
        await this.publisher.publishTo(t.dead, msg.adId, { "x-retries": msg.retries, "x-reason": outcome.reason.slice(0, 500) });
      }
      ch.ack(m);
    } catch (err) {
      // Could not hand the message on: return it to the queue (redelivered; the handler is idempotent).
      log.error("message returned to the queue", { ad_id: msg?.adId, err });
      try {
        ch.nack(m, false, true);
      } catch {
        /* channel already gone: the broker requeues it anyway */
      }
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const ch = this.ch;
    if (ch && this.tag) await ch.cancel(this.tag).catch(() => {});
    this.tag = null;
    const drained = Promise.allSettled([...this.inFlight]);
    await Promise.race([drained, new Promise((r) => setTimeout(r, timeoutMs))]);
    const conn = this.conn;
    this.conn = null;
    this.ch = null;
    // Closing the connection returns any still-unacked message to the queue.
    await conn?.close().catch(() => {});
    await this.publisher.close();
  }
}
