import Mailgun from "mailgun.js";
import type { MailgunConfig } from "../config";
import { DependencyError } from "../domain/errors";
import type { EmailMessage, Mailer } from "./mailer";

/** Sends e-mail through Mailgun's messages API (any base URL, so tests can point it at a double). */
export class MailgunMailer implements Mailer {
  private readonly client;

  constructor(
    private readonly cfg: MailgunConfig,
    private readonly from: string,
    timeoutMs = 30_000,
  ) {
    this.client = new Mailgun(FormData).client({ username: "api", key: cfg.apiKey, url: cfg.apiUrl, timeout: timeoutMs });
  }

  async send(msg: EmailMessage): Promise<{ providerId: string }> {
    try {
      const res = await this.client.messages.create(this.cfg.domain, {
        from: this.from,
        to: [msg.to],
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        "o:tag": ["ad-decision"],
        "v:ad-id": msg.adId,
      });
      if (!res.id) throw new DependencyError("mailer", "Mailgun accepted the message without an id", true, "bad_response");
      return { providerId: res.id };
    } catch (err) {
      if (err instanceof DependencyError) throw err;
      throw toMailerError(err);
    }
  }
}

function toMailerError(err: unknown): DependencyError {
  const e = err as { status?: number; message?: string; details?: string; type?: string };
  const status = typeof e.status === "number" ? e.status : undefined;
  const text = `${e.message ?? ""} ${typeof e.details === "string" ? e.details : ""}`.trim().slice(0, 300);
  // mailgun.js reports a network failure as status 400 with the socket error in the message.
  const network = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|socket|network|timeout|aborted/i.test(text);
  if (status === undefined || network) return new DependencyError("mailer", `Mailgun unreachable: ${text}`, true, "network", { cause: err });
  const transient = status === 429 || status >= 500 || status === 408;
  const reason = status === 401 || status === 403 ? "auth" : `http_${status}`;
  return new DependencyError("mailer", `Mailgun answered ${status}: ${text}`, transient, reason, { cause: err });
}
