/**
 * The message format on the wire: a JSON body `{ adId }`, encoded by the publisher and decoded
 * by the consumer. One place, so both sides agree on it.
 */
import type amqp from "amqplib";
import type { AdMessage } from "../queue";

export function encode(adId: string): Buffer {
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
