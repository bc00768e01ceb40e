/**
 * Queue topology: the queue names (`<q>`, `<q>.dead`), the arguments each is declared with
 * (quorum or classic, delivery limit), and their declaration, including what to do when a queue
 * already exists with another type. Kept apart because both the publisher and the consumer
 * declare the same topology, and its migration rules are the subtle part of the adapter.
 */
import type amqp from "amqplib";
import { DependencyError } from "../../domain/errors";
import type { AmqpOptions, QueueType } from "./options";

/** Second guard against poison messages on a quorum work queue (the handler's own budget comes first). */
export const DEFAULT_DELIVERY_LIMIT = 20;

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
export function topology(queue: string) {
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
