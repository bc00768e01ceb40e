/** The work queue between intake and the worker (RabbitMQ in production). Messages carry an ad id only. */

export interface AdMessage {
  adId: string;
  /** Deliveries of this message so far as the broker counts them (0 when unknown); informational. */
  retries: number;
}

/**
 * What the handler tells the queue to do with a delivery. Retries are not the queue's business:
 * the database holds each ad's next due time and whether its work is handed to the broker
 * (`ads.dispatched_at`), and the worker's scheduler publishes due work (see consumer/scheduler.ts).
 * - `done`: ack (the work is finished, or recorded in the database for later).
 * - `later`: nothing could be recorded (the database is unreachable): keep the message unacked for
 *   `delayMs`, then return it to the queue. No attempt is counted.
 * - `dead`: ack and move the id to the dead-letter queue (the ad is already marked failed).
 */
export type Outcome =
  | { kind: "done" }
  | { kind: "later"; delayMs: number }
  | { kind: "dead"; reason: string };

export interface AdPublisher {
  /** Publishes and waits for the broker's confirm; rejects on timeout or a closed connection. */
  publishAdSubmitted(adId: string): Promise<void>;
  /**
   * The in-process queue only: the transport to the thread that consumes (published ids go
   * there). A broker publisher has no use for it and leaves it undefined.
   */
  bind?(sink: (adId: string) => void): void;
  /** Throws if the broker cannot be reached. */
  ping(): Promise<void>;
  /** Ready messages in the work and dead-letter queues, or null when unknown. */
  depths(): Promise<{ work: number; dead: number } | null>;
  close(): Promise<void>;
}

export interface AdConsumer {
  /** True for a queue that lives in memory: nothing in it survives the process. */
  readonly inMemory: boolean;
  /** Starts delivering messages to `handle`, at most `concurrency` at a time. */
  start(handle: (msg: AdMessage) => Promise<Outcome>): Promise<void>;
  /** Stops taking new messages and waits (bounded) for in-flight ones. */
  stop(timeoutMs: number): Promise<void>;
  /** A publisher into this consumer's own queue (the worker's scheduler publishes through it). */
  publisher(): AdPublisher;
  /** Hands an id to this queue from another thread (the in-process queue's transport). */
  dispatch?(adId: string): void;
  /** Called on every attach and loss, so the host can report readiness. */
  onStateChange: (attached: boolean) => void;
  /** Called when the broker loses the queue (and the messages in it). */
  onQueueLost: () => void;
}
