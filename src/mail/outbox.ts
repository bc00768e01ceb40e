import type { Logger } from "../platform/logger";
import type { EmailMessage, Mailer } from "./mailer";

/**
 * The embedded default mailer: nothing leaves the machine. Every e-mail is already stored in the
 * outbox table (shown in the dashboard's Outbox); this records it as "sent" to the outbox and
 * logs one line.
 */
export class OutboxMailer implements Mailer {
  constructor(private readonly log: Logger) {}

  async send(msg: EmailMessage): Promise<{ providerId: string }> {
    const providerId = `outbox:${crypto.randomUUID()}`;
    this.log.info("e-mail kept in the outbox (no mail provider configured)", { ad_id: msg.adId, to: msg.to, subject: msg.subject, provider_id: providerId });
    return { providerId };
  }
}
