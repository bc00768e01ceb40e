/**
 * The RabbitMQ adapter's settings, shared by the topology, the publisher and the consumer (its
 * own file so none of those has to import another just for the options type).
 */
import type { Logger } from "../../platform/logger";

export type QueueType = "quorum" | "classic";

export interface AmqpOptions {
  /** One node URL, several separated by commas (a cluster's nodes: `amqp://…@h1,amqp://…@h2`), or a list. */
  url: string | readonly string[];
  queue: string;
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
