import type { Logger } from "../platform/logger";
import type { AdConsumer, AdMessage, AdPublisher, Outcome } from "./queue";

/**
 * The embedded default queue between the HTTP side and the worker thread of one process. Same
 * contract as RabbitMQ's: at-least-once, bounded concurrency, `later` messages come back after
 * their pause, dead-lettering (the handler has already marked the ad failed). Nothing is kept only
 * in memory: the database is the source of truth; at start the worker marks all outstanding work
 * undispatched and the scheduler hands it over again (after a crash or a restart).
 */
export class LocalConsumer implements AdConsumer {
  private handle: ((msg: AdMessage) => Promise<Outcome>) | null = null;
  private readonly ready: AdMessage[] = [];
  /** Ids queued or in flight: a second dispatch of the same id is redundant. */
  private readonly known = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopping = false;
  private deadLettered = 0;
  readonly inMemory = true;
  onStateChange: (attached: boolean) => void = () => {};
  /** Never called: this queue cannot be lost without the process. */
  onQueueLost: () => void = () => {};

  constructor(
    private readonly concurrency: number,
    private readonly log: Logger,
  ) {}

  async start(handle: (msg: AdMessage) => Promise<Outcome>): Promise<void> {
    this.handle = handle;
    this.pump();
    this.onStateChange(true);
  }

  /**
   * Publishing into this queue is handing it the id (the scheduler runs in the same thread); its
   * depths are the messages waiting here and those dead-lettered since the start.
   */
  publisher(): AdPublisher {
    return {
      publishAdSubmitted: async (id) => this.dispatch(id),
      ping: async () => {},
      depths: async () => ({ work: this.ready.length, dead: this.deadLettered }),
      close: async () => {},
    };
  }

  /** Queues an ad id (from intake, an operator action or the scheduler). */
  dispatch(adId: string, retries = 0): void {
    if (this.stopping || this.known.has(adId)) return;
    this.known.add(adId);
    this.ready.push({ adId, retries });
    this.pump();
  }

  private pump(): void {
    while (this.handle && !this.stopping && this.inFlight.size < this.concurrency && this.ready.length) {
      const msg = this.ready.shift()!;
      const p = this.process(msg).finally(() => {
        this.inFlight.delete(p);
        this.pump();
      });
      this.inFlight.add(p);
    }
  }

  private async process(msg: AdMessage): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.handle!(msg);
    } catch (err) {
      this.log.error("handler threw; retrying in 5 s", { ad_id: msg.adId, err });
      outcome = { kind: "later", delayMs: 5000 };
    }
    this.known.delete(msg.adId);
    if (outcome.kind === "later" && !this.stopping) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.dispatch(msg.adId, msg.retries + 1);
      }, outcome.delayMs);
      this.timers.add(timer);
    } else if (outcome.kind === "dead") {
      this.deadLettered++;
      this.log.warn("ad dead-lettered", { ad_id: msg.adId, reason: outcome.reason });
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
}

/**
 * The HTTP side's end of the in-process queue: hands ids to the worker thread. Until the worker
 * is attached, a publish fails (the ad stays undispatched and the worker's scheduler hands it over).
 */
export class LocalPublisher implements AdPublisher {
  private sink: ((adId: string) => void) | null = null;

  /** Connects to the worker thread's queue (index.ts binds it once the thread runs). */
  bind(sink: (adId: string) => void): void {
    this.sink = sink;
  }

  async publishAdSubmitted(adId: string): Promise<void> {
    if (!this.sink) throw new Error("the worker thread is not running");
    this.sink(adId);
  }

  async ping(): Promise<void> {
    if (!this.sink) throw new Error("the worker thread is not running");
  }

  /** There is no broker to ask: the worker thread owns the queue and exports its depth as `queue_depth`. */
  async depths(): Promise<{ work: number; dead: number } | null> {
    return null;
  }

  async close(): Promise<void> {
    this.sink = null;
  }
}
