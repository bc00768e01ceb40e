/** Outgoing e-mail (Mailgun in production). */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Provider-side tags/variables (e.g. the ad id), never shown to the recipient. */
  adId: string;
}

export interface Mailer {
  /** Sends one message; resolves to the provider's message id. */
  send(msg: EmailMessage): Promise<{ providerId: string }>;
}
