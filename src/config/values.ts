/** The value parsers behind loadConfig: durations, URLs, RabbitMQ node lists and queue settings. */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest delay setTimeout honours (longer ones fire at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses "250ms", "5s", "2m", "1h" or a bare number of milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "ms"]!);
}

export function isUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol.length > 1 && u.host.length > 0;
  } catch {
    return false;
  }
}

/**
 * Splits an AMQP_URL value into node URLs: full `amqp://` or `amqps://` URLs separated by commas
 * (`amqp://u:p@h1:5672,amqp://u:p@h2:5672`). A comma only separates URLs when the next one
 * starts with a scheme, so a comma inside a password needs no escaping.
 */
export function splitAmqpUrls(text: string): string[] {
  return text
    .split(/,(?=\s*amqps?:\/\/)/i)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** AMQP_URL: every listed URL must be an amqp(s) URL with a host name; returns the list joined by commas. */
export function amqpUrlList(raw: string | undefined, problems: string[]): string | null {
  const v = raw?.trim();
  if (!v) return null;
  const urls = splitAmqpUrls(v);
  if (!urls.length || !urls.every(isAmqpUrl) || /^,|,$/.test(v)) {
    problems.push("AMQP_URL must be an amqp:// or amqps:// URL, or several such URLs separated by commas");
  }
  return urls.join(",");
}

function isAmqpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return /^amqps?:$/i.test(u.protocol) && /^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*|\[[0-9A-Fa-f:.]+\])$/.test(u.hostname);
  } catch {
    return false;
  }
}

export function queueType(raw: string | undefined, problems: string[]): "quorum" | "classic" {
  const v = raw?.trim().toLowerCase();
  if (!v) return "quorum";
  if (v === "quorum" || v === "classic") return v;
  problems.push("AMQP_QUEUE_TYPE must be quorum or classic");
  return "quorum";
}

export function queueName(v: string, problems: string[]): string {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(v)) problems.push("AMQP_QUEUE may only hold letters, digits and _ . : -");
  return v;
}

