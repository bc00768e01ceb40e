/** The work queue between intake and the worker (RabbitMQ in production). Messages carry an ad id only. */

export interface AdMessage {
  adId: string;
  /** How many times this message has been through a retry delay (0 on first delivery). */
  retries: number;
}

/** What the handler tells the queue to do with a delivery. */
export type Outcome =
  | { kind: "done" }
  | { kind: "retry"; delayMs: number }
  | { kind: "dead"; reason: string };

export interface AdPublisher {
  /** Publishes and waits for the broker's confirm; rejects on timeout or a closed connection. */
  publishAdSubmitted(adId: string): Promise<void>;
  /** Throws if the broker cannot be reached. */
  ping(): Promise<void>;
  /** Ready messages in the work and dead-letter queues, or null when unknown. */
  depths(): Promise<{ work: number; dead: number } | null>;
  close(): Promise<void>;
}

export interface AdConsumer {
  /** Starts delivering messages to `handle`, at most `concurrency` at a time. */
  start(handle: (msg: AdMessage) => Promise<Outcome>): Promise<void>;
  /** Stops taking new messages and waits (bounded) for in-flight ones. */
  stop(timeoutMs: number): Promise<void>;
}
