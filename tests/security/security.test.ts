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

  test("an oversized body with a Content-Length is refused before it is read (413)", async () => {
    const big = new Uint8Array(3 * 1024 * 1024);
    big.set([0xff, 0xd8, 0xff]);
    const res = await post(adForm({ description: "x", email: "a@b.co", image: big }));
    expect(res.status).toBe(413);
  });

  test("an oversized chunked body (no Content-Length) is cut off at the cap", async () => {
    const status = await new Promise<string>((resolve) => {
      const sock = connect(svc.port, "127.0.0.1", () => {
        sock.write("POST /ads HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n");
        const chunk = Buffer.alloc(256 * 1024, 0x41);
        let sent = 0;
        const pump = () => {
          while (sent < 8 * 1024 * 1024) {
            sent += chunk.length;
            if (!sock.write(`${chunk.length.toString(16)}\r\n`) || !sock.write(chunk) || !sock.write("\r\n")) return sock.once("drain", pump);
          }
          sock.write("0\r\n\r\n");
        };
        pump();
      });
      let head = "";
      sock.on("data", (d) => {
        head += d.toString();
        if (head.includes("\r\n")) resolve(head.split("\r\n")[0]!);
      });
      sock.on("error", () => resolve(head.split("\r\n")[0] || "closed"));
      sock.on("close", () => resolve(head.split("\r\n")[0] || "closed"));
    });
    expect(status === "closed" || status.includes(" 413 ")).toBe(true);
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
    // Status reads are not limited.
    expect((await fetch(`${limited.url}/health`)).status).toBe(200);
    await limited.stop();
  });
});

describe("S5 ids", () => {
  test("ids are unguessable UUIDs; malformed or traversal ids are plain 404s", async () => {
    const a = (await (await post(adForm({ description: "a", email: "a@b.co", image: photo("none-cat.png") }))).json()) as { id: string };
    const b = (await (await post(adForm({ description: "b", email: "a@b.co", image: photo("none-cat.png") }))).json()) as { id: string };
    // UUIDv7: 48 bits of time, then 74 random bits; consecutive ids differ in the random part.
    expect(a.id.slice(15)).not.toBe(b.id.slice(15));
    for (const id of ["..%2F..%2Fetc%2Fpasswd", "1", "00000000-0000-0000-0000-000000000000", "%00"]) {
      const res = await fetch(`${svc.url}/ads/${id}`);
      expect(res.status).toBe(404);
    }
  });
});

describe("S6 no secrets in logs", () => {
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
