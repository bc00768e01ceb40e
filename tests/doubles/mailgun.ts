/**
 * A local Mailgun test double following reference/mailgun.md: `POST /v3/{domain}/messages`,
 * HTTP Basic auth `api:<key>`, multipart or urlencoded body; records every accepted message.
 */
import { basicAuthOk, FaultPlan } from "./faults";

export interface SentMail {
  id: string;
  domain: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  adId: string | null;
  at: number;
}

export function startMailgunDouble(opts: { key?: string; domain?: string; port?: number } = {}) {
  const key = opts.key ?? "test-mailgun-key";
  const domain = opts.domain ?? "mg.example.test";
  const messages: SentMail[] = [];
  /** Every well-formed request, answered or failed: when, and about which ad. */
  const calls: Array<{ adId: string | null; at: number; status: number }> = [];
  const faults = new FaultPlan();
  let seq = 0;
  const errorBody = (status: number) => ({ message: `simulated failure ${status}` });
  const waiters: Array<() => void> = [];

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const m = /^\/v3\/([^/]+)\/messages$/.exec(url.pathname);
      if (!m) return Response.json({ message: "Not Found" }, { status: 404 });
      if (req.method !== "POST") return Response.json({ message: "Method not allowed" }, { status: 405 });
      if (!basicAuthOk(req, "api", key)) return new Response("Forbidden", { status: 401 });
      if (decodeURIComponent(m[1]!) !== domain) return Response.json({ message: "Domain not found: " + m[1] }, { status: 404 });
      let form: FormData;
      try {
        form = await req.formData();
      } catch {
        return Response.json({ message: "'from' parameter is missing" }, { status: 400 });
      }
      const field = (k: string) => {
        const v = form.getAll(k).filter((x): x is string => typeof x === "string");
        return v.length ? v.join(",") : null;
      };
      const from = field("from"), to = field("to"), subject = field("subject"), text = field("text"), html = field("html");
      if (!from) return Response.json({ message: "'from' parameter is missing" }, { status: 400 });
      if (!to) return Response.json({ message: "'to' parameter is missing" }, { status: 400 });
      if (!subject) return Response.json({ message: "'subject' parameter is missing" }, { status: 400 });
      if (!text && !html) return Response.json({ message: "Need at least one of 'text' or 'html' parameters specified" }, { status: 400 });
      const fault = await faults.next(errorBody);
      calls.push({ adId: field("v:ad-id"), at: Date.now(), status: fault?.status ?? 200 });
      if (fault) return fault;
      const id = `<${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}.${++seq}.${crypto.randomUUID().slice(0, 8)}@${domain}>`;
      messages.push({ id, domain, from, to, subject, text: text ?? "", html: html ?? "", adId: field("v:ad-id"), at: Date.now() });
      for (const w of waiters.splice(0)) w();
      return Response.json({ id, message: "Queued. Thank you." });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    key,
    domain,
    messages,
    calls,
    faults,
    /** Messages about one ad. */
    forAd: (adId: string) => messages.filter((x) => x.adId === adId),
    /** Resolves at the next accepted message (or after `timeoutMs`). */
    nextMessage: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, timeoutMs);
      }),
    stop: () => server.stop(true),
  };
}

export type MailgunDouble = ReturnType<typeof startMailgunDouble>;
