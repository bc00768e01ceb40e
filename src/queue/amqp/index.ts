/**
 * The RabbitMQ adapter's entry point: re-exports the pieces in ./amqp/ (one job per file:
 * options, topology, nodes, messages, publisher, consumer), so importers keep one path.
 */
export type { AmqpOptions, QueueType } from "./options";
export { DEFAULT_DELIVERY_LIMIT, isMisconfigured, queueArguments, Topology, topology } from "./topology";
export { NodeList, nodeLabel } from "./nodes";
export { decodeMessage } from "./messages";
export { AmqpPublisher } from "./publisher";
export { AmqpConsumer, MAX_LATER_MS, MAX_RECONNECT_DELAY_MS, REQUEUE_PAUSE_MS } from "./consumer";
