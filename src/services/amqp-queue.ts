/**
 * The RabbitMQ adapter's entry point: re-exports the pieces in ./amqp/ (one job per file:
 * options, topology, nodes, messages, publisher, consumer), so importers keep one path.
 */
export type { AmqpOptions, QueueType } from "./amqp/options";
export { DEFAULT_DELIVERY_LIMIT, isMisconfigured, queueArguments, Topology, topology } from "./amqp/topology";
export { NodeList, nodeLabel } from "./amqp/nodes";
export { decodeMessage } from "./amqp/messages";
export { AmqpPublisher } from "./amqp/publisher";
export { AmqpConsumer, MAX_LATER_MS, MAX_RECONNECT_DELAY_MS, REQUEUE_PAUSE_MS } from "./amqp/consumer";
