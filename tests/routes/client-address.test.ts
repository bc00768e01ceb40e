/**
 * Who the client is (its address, and whether it came over https), shared by POST /ads's rate
 * limit and the dashboard's sign-in throttle and cookies; and that POST /ads refuses a client over
 * its budget before reading the body.
 */
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { adRoutes, type AdRoutesDeps } from "../../src/routes/ads";
import { clientAddress, requestIsHttps } from "../../src/routes/client-address";
import { silentLogger } from "../../src/platform/logger";
import { serviceMetrics } from "../../src/platform/metrics";
import { RateLimiter } from "../../src/platform/rate-limit";

const server = (address: string | null) => ({ requestIP: () => (address ? { address } : null) });
const req = (headers: Record<string, string> = {}, url = "http://localhost/x") => new Request(url, { headers });

describe("clientAddress", () => {
  test("the socket's address unless TRUST_PROXY; then the last X-Forwarded-For hop", () => {
    const xff = { "x-forwarded-for": "203.0.113.9, 198.51.100.2" };
    expect(clientAddress(req(xff), server("10.0.0.1"), false)).toBe("10.0.0.1");
    expect(clientAddress(req(xff), server("10.0.0.1"), true)).toBe("198.51.100.2");
    expect(clientAddress(req({ "x-forwarded-for": " , " }), server("10.0.0.1"), true)).toBe("10.0.0.1");
    expect(clientAddress(req(), server("10.0.0.1"), true)).toBe("10.0.0.1");
    expect(clientAddress(req(), server(null), false)).toBe("unknown");
    expect(clientAddress(req(), null, false)).toBe("unknown");
  });
});

describe("requestIsHttps", () => {
  test("an https request URL, or X-Forwarded-Proto: https from a trusted proxy", () => {
    expect(requestIsHttps(req({}, "https://ads.example/admin/login"), false)).toBe(true);
    expect(requestIsHttps(req({}, "http://ads.example/admin/login"), false)).toBe(false);
    expect(requestIsHttps(req({ "x-forwarded-proto": "https" }), false)).toBe(false); // anyone can send it
    expect(requestIsHttps(req({ "x-forwarded-proto": "https" }), true)).toBe(true);
    expect(requestIsHttps(req({ "x-forwarded-proto": "HTTPS" }), true)).toBe(true);
    expect(requestIsHttps(req({ "x-forwarded-proto": "http" }), true)).toBe(false);
    expect(requestIsHttps(req({ "x-forwarded-proto": "http, https" }), true)).toBe(true); // the last hop is ours
  });
});

describe("POST /ads rate limit", () => {
  function app(trustProxy: boolean) {
    const deps = {
      rateLimiter: new RateLimiter(60, 1),
      trustProxy,
      log: silentLogger,
      metrics: serviceMetrics(),
      maxImageBytes: 1024 * 1024,
      maxImagePixels: 1_000_000,
      defaultLanguage: "en",
    } as unknown as AdRoutesDeps; // the rest is never reached: the requests below stop at validation
    return new Elysia().use(adRoutes(deps));
  }

  /** A multipart body (an empty description: refused at validation) that records whether anyone read it. */
  function tracedBody() {
    const t = { read: false };
    const text = '--b\r\nContent-Disposition: form-data; name="description"\r\n\r\n \r\n--b--\r\n';
    const body = new ReadableStream(
      {
        pull(c) {
          t.read = true;
          c.enqueue(new TextEncoder().encode(text));
          c.close();
        },
      },
      { highWaterMark: 0 },
    );
    return { t, body };
  }

  const post = (a: ReturnType<typeof app>, body: ReadableStream, headers: Record<string, string> = {}) =>
    a.handle(new Request("http://localhost/ads", { method: "POST", body, headers: { "content-type": "multipart/form-data; boundary=b", ...headers }, duplex: "half" } as RequestInit));

  test("a client over its budget gets 429 before its body is read or parsed", async () => {
    const a = app(false);
    const first = tracedBody();
    const ok = await post(a, first.body);
    expect(ok.status).toBe(422); // within budget: parsed and validated
    expect(first.t.read).toBe(true);

    const second = tracedBody();
    const limited = await post(a, second.body);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: { code: "rate_limited", message: "Too many submissions; try again later" } });
    expect(second.t.read).toBe(false);
  });

  test("with TRUST_PROXY the budget is per forwarded client", async () => {
    const a = app(true);
    expect((await post(a, tracedBody().body, { "x-forwarded-for": "198.51.100.1" })).status).toBe(422);
    expect((await post(a, tracedBody().body, { "x-forwarded-for": "198.51.100.1" })).status).toBe(429);
    expect((await post(a, tracedBody().body, { "x-forwarded-for": "198.51.100.2" })).status).toBe(422);
    // One IPv6 /64 is one client.
    expect((await post(a, tracedBody().body, { "x-forwarded-for": "2001:db8:5:6::1" })).status).toBe(422);
    expect((await post(a, tracedBody().body, { "x-forwarded-for": "2001:db8:5:6::beef" })).status).toBe(429);
  });

  test("a browser (htmx) gets the 429 as HTML, still with Retry-After", async () => {
    const a = app(false);
    await post(a, tracedBody().body);
    const res = await post(a, tracedBody().body, { "hx-request": "true" });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await res.text()).toContain("Too many submissions");
  });
});
