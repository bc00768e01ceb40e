/**
 * The confirm-channel publisher: one long-lived connection, mandatory publishes matched to the
 * broker's returns, confirms bounded by a timeout, fail-fast while the broker blocks publishing
 * (a resource alarm) and a backoff after a failed connect. The consumer uses it too, for its
 * dead-letter and `later` publishes.
 */
import type amqp from "amqplib";
import { DependencyError } from "../../domain/errors";
import type { AdPublisher } from "../queue";
import { withTimeout as raceTimeout } from "../../platform/timeout";
import { encode } from "./messages";
import { NodeList } from "./nodes";
import type { AmqpOptions } from "./options";
import { isMisconfigured, Topology, topology } from "./topology";

function blockedError(): DependencyError {
  return Object.assign(new DependencyError("broker", "the broker is blocking publishes (a resource alarm: memory or disk)", true, "blocked"), { readiness: "blocked" });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return raceTimeout(p, ms, () => new DependencyError("broker", `${what} timed out after ${ms} ms`, true, "timeout"));
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
