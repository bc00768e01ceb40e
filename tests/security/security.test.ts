/**
 * S1–S6 of reliability.md's security list, against the compiled binary over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { startFaultStack, type FaultStack } from "../faults/harness";
import type { Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, S3, waitFor } from "../support/stack";

const CANARY_EMAIL = "canary.poster+s2@example.com";
let stack: FaultStack;
let svc: Running;

beforeAll(async () => {
  stack = await startFaultStack({ MAX_IMAGE_BYTES: String(2 * 1024 * 1024), MAX_IMAGE_PIXELS: String(20_000_000), LOG_LEVEL: "debug" });
  svc = await stack.start();
});
afterAll(async () => {
  await stack.stop();
});

/** Sends `request` on a fresh connection (nothing more) and returns what comes back within `ms`. */
function rawExchange(request: string, port = svc.port, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const sock = connect(port, "127.0.0.1", () => sock.write(request));
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(got || `no answer within ${ms} ms`);
    }, ms);
    sock.on("data", (d) => {
      got += d.toString();
      const end = got.indexOf("\r\n\r\n");
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(got)?.[1] ?? NaN);
      if (end >= 0 && got.length >= end + 4 + length) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(got || "closed without an answer");
    });
  });
}

const post = (form: FormData, headers: Record<string, string> = {}) => fetch(`${svc.url}/ads`, { method: "POST", body: form, headers });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
async function adCount(): Promise<number> {
  const [r] = await stack.sql<{ n: number }[]>`select count(*)::int as n from ads`;
  return r!.n;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A structurally valid PNG that claims `w`×`h` pixels (a decompression bomb's header). */
function pngBomb(w: number, h: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w);
  dv.setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const idat = new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array())];
  return new Uint8Array(Buffer.concat(parts));
}

describe("S1 upload tricks change nothing", () => {
  const cases: Array<[string, () => FormData, number, string]> = [
    ["a script labelled image/jpeg", () => adForm({ description: "x", email: "a@b.co", image: "<script>alert(1)</script>", type: "image/jpeg", filename: "a.jpg" }), 415, "unsupported_image"],
    ["an SVG (scriptable) labelled image/png", () => adForm({ description: "x", email: "a@b.co", image: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', type: "image/png" }), 415, "unsupported_image"],
    [
      "a polyglot: a real JPEG with HTML appended",
      () => adForm({ description: "x", email: "a@b.co", image: new Uint8Array(Buffer.concat([photo("vehicle-bus.jpg"), Buffer.from("<html><script>alert(1)</script></html>")])) }),
      422,
      "invalid_image",
    ],
    ["a truncated JPEG", () => adForm({ description: "x", email: "a@b.co", image: photo("vehicle-bus.jpg").subarray(0, 20_000) }), 422, "invalid_image"],
    ["a pixel bomb (100000×100000 PNG header)", () => adForm({ description: "x", email: "a@b.co", image: pngBomb(100_000, 100_000), type: "image/png" }), 422, "invalid_image"],
  ];
  for (const [name, body, status, errorCode] of cases) {
    test(`${name} → ${status}`, async () => {
      const before = await adCount();
      const res = await post(body());
      expect(res.status).toBe(status);
      expect(await code(res)).toBe(errorCode);
      expect(await adCount()).toBe(before);
    });
  }

  const LIMIT = 2 * 1024 * 1024; // MAX_IMAGE_BYTES of this stack
  const TOO_LARGE = { error: { code: "image_too_large", message: `image must be at most ${LIMIT} bytes` } };

  test("an image one byte over MAX_IMAGE_BYTES gets the service's own 413 (its JSON error); one at the limit is not refused for size", async () => {
    const over = new Uint8Array(LIMIT + 1);
    over.set([0xff, 0xd8, 0xff]);
    const before = await adCount();
    const res = await post(adForm({ description: "x", email: "a@b.co", image: over }));
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("x-request-id")).toBeTruthy(); // answered by the service, not by Bun or a proxy
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.json()).toEqual(TOO_LARGE);
    const at = await post(adForm({ description: "x", email: "a@b.co", image: over.subarray(0, LIMIT) }));
    expect(at.status).toBe(422); // not a JPEG past its magic bytes, but not too large
    expect(await code(at)).toBe("invalid_image");
    expect(await adCount()).toBe(before);
  });

  test("an oversized Content-Length is refused before the body is read: the service's 413 comes with no body sent", async () => {
    const answer = await rawExchange(`POST /ads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${LIMIT + 512 * 1024}\r\n\r\n`);
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(answer).toMatch(/\r\nx-request-id: /i);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual(TOO_LARGE);
  });

  // Known gap (not in the routes): Bun refuses a Content-Length above the server's
  // maxRequestBodySize (MAX_IMAGE_BYTES + 1 MiB, set in src/index.ts) itself, with a bare 413 (no
  // JSON body, no security headers) before the app sees the request. Marked failing until that is
  // changed; it will then fail as a reminder to make it a plain test.
  test.failing("a body far over the cap (beyond Bun's maxRequestBodySize) also gets the service's JSON 413", async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 1);
    big.set([0xff, 0xd8, 0xff]);
    const res = await post(adForm({ description: "x", email: "a@b.co", image: big }));
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toEqual(TOO_LARGE);
  });

  test("an oversized chunked body (no Content-Length) is cut off at the cap with a 413", async () => {
    // Sent at a pace that lets the answer arrive (a client writing flat out into a closed
    // connection sees EPIPE before it can read anything); writing stops once the answer starts.
    const head = await new Promise<string>((resolve) => {
      let got = "";
      let stop = false;
      const sock = connect(svc.port, "127.0.0.1", async () => {
        sock.write("POST /ads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n");
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        for (let sent = 0; sent < 8 * 1024 * 1024 && !stop && !sock.destroyed; sent += chunk.length) {
          sock.write(`${chunk.length.toString(16)}\r\n`);
          sock.write(chunk);
          sock.write("\r\n");
          await Bun.sleep(2);
        }
        if (!stop && !sock.destroyed) sock.write("0\r\n\r\n");
      });
      const timer = setTimeout(() => {
        sock.destroy();
        resolve(got || "no answer within 10 s");
      }, 10_000);
      sock.on("data", (d) => {
        got += d.toString();
        stop = true;
      });
      sock.on("error", () => {});
      sock.on("close", () => {
        clearTimeout(timer);
        resolve(got || "closed without an answer");
      });
    });
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
  });
});

describe("S2 the poster's e-mail is in no public response", () => {
  test("pending, accepted and rejected ads, their images, errors, docs and metrics", async () => {
    const ids: string[] = [];
    for (const file of ["vehicle-bus.jpg", "none-cat.png"]) {
      const res = await post(adForm({ description: "s2", email: CANARY_EMAIL, image: photo(file) }));
      expect(res.status).toBe(201);
      const text = await res.text();
      expect(text).not.toContain("canary.poster");
      ids.push((JSON.parse(text) as { id: string }).id);
    }
    const bodies: string[] = [];
    for (const id of ids) bodies.push(await (await fetch(`${svc.url}/ads/${id}`)).text()); // while pending
    await waitFor(async () => (await stack.sql`select 1 from ads where state <> 'pending' and id in ${stack.sql(ids)}`).length === 2);
    for (const path of [...ids.map((id) => `/ads/${id}`), ...ids.map((id) => `/ads/${id}/image`), "/swagger/json", "/metrics", "/ready", `/ads/${crypto.randomUUID()}`]) {
      const res = await fetch(`${svc.url}${path}`);
      bodies.push(Buffer.from(await res.arrayBuffer()).toString("latin1"), JSON.stringify(Object.fromEntries(res.headers as unknown as Iterable<[string, string]>)));
    }
    expect(bodies.join("\n")).not.toContain("canary.poster");
  });
});

describe("S3 headers", () => {
  test("every kind of response carries nosniff, frame-ancestors 'none' and a CSP without unsafe-eval", async () => {
    const responses = [
      await fetch(`${svc.url}/health`),
      await fetch(`${svc.url}/swagger`),
      await fetch(`${svc.url}/swagger/json`),
      await fetch(`${svc.url}/ads/${crypto.randomUUID()}`),
      await fetch(`${svc.url}/nope`),
      await post(adForm({ description: "x", email: "bad" })),
    ];
    for (const res of responses) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
  });
});

describe("S4 rate limiting of POST /ads", () => {
  test("a client over its budget gets 429 with Retry-After; nothing is stored", async () => {
    const limited = await stack.start([], { RATE_LIMIT_PER_MINUTE: "6", RATE_LIMIT_BURST: "3" });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${limited.url}/ads`, { method: "POST", body: adForm({ description: "r", email: "a@b.co", image: photo("none-cat.png") }) });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // A limited client is refused before its upload is read: it announces 1 MB, sends none of it,
    // and still gets its 429 at once (a check after body parsing would wait for the body).
    const answer = await rawExchange(`POST /ads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${1024 * 1024}\r\n\r\n`, limited.port, 3000);
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 429 Too Many Requests");
    expect(answer).toMatch(/\r\nretry-after: *[1-9]\d*\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({ error: { code: "rate_limited", message: "Too many submissions; try again later" } });
    // Status reads are not limited.
    expect((await fetch(`${limited.url}/health`)).status).toBe(200);
    await limited.stop();
  });
});

describe("S5 ids", () => {
  test("ids are unguessable UUIDs; malformed or traversal ids are plain 404s", async () => {
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(((await (await post(adForm({ description: `id ${i}`, email: "a@b.co", image: photo("none-cat.png") }))).json()) as { id: string }).id);
    // UUIDv7 (RFC 9562): 48 bits of Unix time in ms, version 7, 12 bits (Bun: a counter within the
    // millisecond), the variant 10, then 62 random bits. The time is now; the 62 random bits of
    // consecutive ids are unrelated (about half of them differ; a counter would change a few).
    const random62 = (id: string) => BigInt(`0x${id.replaceAll("-", "").slice(16)}`) & ((1n << 62n) - 1n);
    const ones = (x: bigint) => [...x.toString(2)].filter((c) => c === "1").length;
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(started - 1000);
      expect(ms).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(new Set(ids.map(random62)).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ones(random62(ids[i]!) ^ random62(ids[i - 1]!))).toBeGreaterThan(8);
    for (const id of ["..%2F..%2Fetc%2Fpasswd", "1", "00000000-0000-0000-0000-000000000000", "%00"]) {
      const res = await fetch(`${svc.url}/ads/${id}`);
      expect(res.status).toBe(404);
    }
  });
});

describe("S6 no secrets in logs", () => {
  test("the database password, the AMQP password and ADMIN_PASSWORD (canaries) are in no log line and no response", async () => {
    // Canaries with characters that JSON and URLs escape; the AMQP user does not exist, so the
    // broker refuses the login and the service logs and reports its broker errors.
    const canary = { db: 'db-canary-"pw\\9', amqp: 'amqp-canary-"pw\\9', admin: 'admin-canary-"pw\\0001' };
    const dbUrl = new URL(stack.env.DATABASE_URL!);
    dbUrl.password = encodeURIComponent(canary.db); // trust authentication: the password is sent but not needed
    const amqpUrl = `amqp://canary-user:${encodeURIComponent(canary.amqp)}@127.0.0.1:5672`;
    const c = await stack.start([], { DATABASE_URL: dbUrl.toString(), AMQP_URL: amqpUrl, ADMIN_PASSWORD: canary.admin, LOG_LEVEL: "debug" });
    const seen: string[] = [];
    const keep = async (res: Response) => {
      seen.push(`${res.status} ${JSON.stringify(Object.fromEntries(res.headers as unknown as Iterable<[string, string]>))} ${Buffer.from(await res.arrayBuffer()).toString("latin1")}`);
      return res;
    };
    try {
      expect((await keep(await fetch(`${c.url}/ads`, { method: "POST", body: adForm({ description: "canary", email: "a@b.co", image: photo("vehicle-bus.jpg") }) }))).status).toBe(201);
      await keep(await fetch(`${c.url}/ads`, { method: "POST", body: adForm({ description: "x", email: "not an address" }) }));
      await waitFor(() => c.output().includes("broker reconnect failed"), 10_000);
      const ready = await keep(await fetch(`${c.url}/ready`));
      expect(ready.status).toBe(503);
      for (const path of ["/metrics", "/health", "/swagger/json", `/ads/${crypto.randomUUID()}`, "/nope", "/admin/login"]) await keep(await fetch(`${c.url}${path}`));
      const form = (password: string) => ({ method: "POST", body: new URLSearchParams({ password }), redirect: "manual" as const });
      expect((await keep(await fetch(`${c.url}/admin/login`, form("not the password at all")))).status).toBe(401);
      const ok = await keep(await fetch(`${c.url}/admin/login`, form(canary.admin)));
      expect(ok.status).toBe(303);
      const cookie = ok.headers.get("set-cookie")!.split(";")[0]!;
      for (const path of ["/admin", "/admin/overview", "/admin/outbox"]) expect((await keep(await fetch(`${c.url}${path}`, { headers: { cookie } }))).status).toBe(200);
      await Bun.sleep(500);
    } finally {
      await c.stop();
    }
    const out = c.output();
    expect(out).toContain("ACCESS_REFUSED"); // the broker's refusals were logged...
    expect(out).toContain("admin signed in");
    for (const where of [out, seen.join("\n")]) {
      // ...but no form of any canary: raw, JSON-escaped, URL-encoded (each contains its prefix).
      for (const prefix of ["db-canary", "amqp-canary", "admin-canary"]) expect(where).not.toContain(prefix);
    }
  });

  test("API keys, the S3 secret and passwords never reach stdout/stderr", async () => {
    // Make the service log errors that carry configuration-derived text.
    stack.mailgun.faults.failNext(1, 401, null);
    await post(adForm({ description: "log", email: "a@b.co", image: photo("vehicle-bus.jpg") }));
    await Bun.sleep(1500);
    const out = svc.output();
    expect(out.length).toBeGreaterThan(2000);
    for (const secret of [stack.env.IMAGGA_API_SECRET, stack.env.MAILGUN_API_KEY, S3.secretAccessKey]) expect(out).not.toContain(secret);
    expect(out).not.toContain(Buffer.from(`${stack.env.IMAGGA_API_KEY}:${stack.env.IMAGGA_API_SECRET}`).toString("base64"));
  });
});
