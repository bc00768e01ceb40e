/** Who a request comes from, for rate limits, sign-in throttling and cookie flags. */

/** What Elysia's `server` offers (absent when a test calls `app.handle`). */
export type RequestIpSource = { requestIP(r: Request): { address: string } | null } | null | undefined;

/**
 * The address a rate limit is keyed on: the socket's peer, or with `trustProxy` (only behind
 * your own proxy, which appends the address it saw) the last X-Forwarded-For hop.
 * RateLimiter then keys IPv6 by its /64 (see platform/rate-limit.ts).
 */
export function clientAddress(request: Request, server: RequestIpSource, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = request.headers.get("x-forwarded-for")?.split(",").map((s) => s.trim()).filter(Boolean);
    if (hops?.length) return hops[hops.length - 1]!;
  }
  return server?.requestIP(request)?.address ?? "unknown";
}

/**
 * Whether the client reached us over https: the request URL says so (TLS terminated by Bun), or,
 * with `trustProxy`, the proxy's X-Forwarded-Proto (its last value: the hop our proxy added).
 */
export function requestIsHttps(request: Request, trustProxy: boolean): boolean {
  if (request.url.startsWith("https:")) return true;
  if (!trustProxy) return false;
  const proto = request.headers.get("x-forwarded-proto")?.split(",").at(-1)?.trim().toLowerCase();
  return proto === "https";
}
