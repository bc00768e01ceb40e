/**
 * Per-client token buckets: `perMinute` requests a minute with bursts up to `burst`. Keeps at
 * most `maxClients` buckets (the least recently seen are dropped), so memory stays bounded.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly maxClients = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `client` (an address is keyed by `clientKey`); returns 0 when allowed, or the seconds to wait. */
  take(address: string): number {
    const client = clientKey(address);
    const t = this.now();
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(client) ?? { tokens: this.burst, at: t };
    this.buckets.delete(client);
    b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.buckets.set(client, b);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate / 1000);
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail converted), or null. */
function ipv6Groups(text: string): number[] | null {
  let s = text.toLowerCase();
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".", lastColon)) {
    const v4 = s.slice(lastColon + 1);
    if (!IPV4.test(v4)) return null;
    const b = v4.split(".").map(Number);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    s = s.slice(0, lastColon + 1) + "0"; // a placeholder group, dropped below
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const part = (h: string) => (h === "" ? [] : h.split(":"));
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  if (tail.length) (halves.length === 2 ? rest : head).pop();
  const given = head.length + rest.length + tail.length;
  if ([...head, ...rest].some((g) => !HEXTET.test(g))) return null;
  if (halves.length === 2 ? given > 7 : given !== 8) return null;
  const groups = [...head.map((g) => parseInt(g, 16)), ...Array<number>(8 - given).fill(0), ...rest.map((g) => parseInt(g, 16)), ...tail];
  return groups.length === 8 ? groups : null;
}

/**
 * The key a client address is limited under. An IPv6 host usually owns a whole /64 (and can use
 * any address in it), so IPv6 is keyed by its /64 prefix; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is its IPv4 address. Anything that is not an address is kept as it is.
 */
export function clientKey(address: string): string {
  let a = address.trim();
  if (!a.includes(":")) return a;
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  const g = ipv6Groups(a);
  if (!g) return address;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(":")}::/64`;
}
