/** The vendor adapters, over real HTTP against the contract-following doubles and a real Ceph RGW. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DependencyError } from "../src/domain/errors";
import { gateTagger, taggingLimit } from "../src/compose";
import { ImaggaTagger } from "../src/tagger/imagga";
import { MailgunMailer } from "../src/mail/mailgun";
import { S3ImageStorage } from "../src/storage/s3";
import type { ObjectPage } from "../src/storage/storage";
import { startImaggaDouble, type ImaggaDouble } from "./doubles/imagga";
import { startMailgunDouble, type MailgunDouble } from "./doubles/mailgun";
import { photo } from "./support/fixtures";
import { S3 } from "./support/stack";

let imagga: ImaggaDouble;
let mailgun: MailgunDouble;
beforeAll(() => {
  imagga = startImaggaDouble();
  mailgun = startMailgunDouble();
});
afterAll(() => {
  imagga.stop();
  mailgun.stop();
});

const imaggaCfg = () => ({ apiKey: imagga.key, apiSecret: imagga.secret, apiUrl: imagga.url, maxConcurrency: 2 });

async function failure(p: Promise<unknown>): Promise<DependencyError> {
  const e = await p.then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(DependencyError);
  return e as DependencyError;
}

describe("ImaggaTagger", () => {
  test("sends the bytes as multipart 'image' with basic auth and reads the tags", async () => {
    const bytes = photo("vehicle-car-rear.jpg");
    const tags = await new ImaggaTagger(imaggaCfg()).tag(bytes, "image/jpeg");
    expect(tags[0]).toEqual({ name: "car", confidence: 100 });
    expect(tags.find((t) => t.name === "vehicle")?.confidence).toBe(61.2);
    expect(imagga.calls.at(-1)).toMatchObject({ bytes: bytes.byteLength, contentType: "image/jpeg", status: 200 });
  });

  test("wrong credentials: 401, classified as an auth problem", async () => {
    const e = await failure(new ImaggaTagger({ ...imaggaCfg(), apiSecret: "wrong" }).tag(photo("none-cat.png"), "image/png"));
    expect([e.dependency, e.reason]).toEqual(["tagger", "auth"]);
  });

  test.each([
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [415, false],
  ])("HTTP %i is transient=%p", async (status, transient) => {
    imagga.faults.failNext(1, status, null);
    const e = await failure(new ImaggaTagger(imaggaCfg()).tag(photo("none-cat.png"), "image/png"));
    expect(e.transient).toBe(transient);
    expect(e.reason).toBe(`http_${status}`);
  });

  test("a server that is not there is a transient network error", async () => {
    const e = await failure(new ImaggaTagger({ ...imaggaCfg(), apiUrl: "http://127.0.0.1:1" }).tag(photo("none-cat.png"), "image/png"));
    expect([e.transient, e.reason]).toEqual([true, "network"]);
  });

  test("a slow server hits the request timeout", async () => {
    imagga.faults.delayMs = 500;
    try {
      const e = await failure(new ImaggaTagger(imaggaCfg(), 100).tag(photo("none-cat.png"), "image/png"));
      expect([e.transient, e.reason]).toEqual([true, "timeout"]);
    } finally {
      imagga.faults.reset();
    }
  });

  test("never more parallel calls than IMAGGA_MAX_CONCURRENCY (the worker's one tagging gate), even with a larger WORKER_CONCURRENCY", async () => {
    // A double of its own: requests abandoned by the timeout test may still be in flight on the shared one.
    const own = startImaggaDouble();
    own.faults.delayMs = 100;
    try {
      const cfg = { apiKey: own.key, apiSecret: own.secret, apiUrl: own.url, maxConcurrency: 2 };
      expect(taggingLimit({ workerConcurrency: 8, imagga: cfg })).toBe(2);
      expect(taggingLimit({ workerConcurrency: 1, imagga: cfg })).toBe(1);
      expect(taggingLimit({ workerConcurrency: 8, imagga: null })).toBe(8);
      const tagger = gateTagger(new ImaggaTagger(cfg), taggingLimit({ workerConcurrency: 8, imagga: cfg }));
      await Promise.all(Array.from({ length: 8 }, () => tagger.tag(photo("none-fruits.jpg"), "image/jpeg")));
      expect(own.calls).toHaveLength(8);
      expect(own.maxInFlight()).toBe(2);
    } finally {
      own.stop();
    }
  });
});

describe("MailgunMailer", () => {
  const mailer = () => new MailgunMailer({ apiKey: mailgun.key, domain: mailgun.domain, apiUrl: mailgun.url }, "ads <noreply@mg.example.test>");
  const msg = { to: "poster@example.com", subject: "Hi", text: "plain", html: "<p>rich</p>", adId: "ad-1" };

  test("sends from/to/subject/text/html with the ad id variable and returns the provider id", async () => {
    const { providerId } = await mailer().send(msg);
    const sent = mailgun.messages.at(-1)!;
    expect(sent).toMatchObject({ id: providerId, to: "poster@example.com", subject: "Hi", text: "plain", html: "<p>rich</p>", adId: "ad-1", from: "ads <noreply@mg.example.test>" });
  });

  test("a wrong key is a 401 auth error", async () => {
    const e = await failure(new MailgunMailer({ apiKey: "nope", domain: mailgun.domain, apiUrl: mailgun.url }, "a <a@b.co>").send(msg));
    expect([e.dependency, e.reason]).toEqual(["mailer", "auth"]);
  });

  test("429 and 5xx are transient, 400 is permanent", async () => {
    for (const [status, transient] of [[429, true], [502, true], [400, false]] as const) {
      mailgun.faults.failNext(1, status, null);
      const e = await failure(mailer().send(msg));
      expect([status, e.transient]).toEqual([status, transient]);
    }
  });

  test("a network failure (which mailgun.js reports as 400) is transient", async () => {
    const e = await failure(new MailgunMailer({ apiKey: "k", domain: "d", apiUrl: "http://127.0.0.1:1" }, "a <a@b.co>").send(msg));
    expect(e.transient).toBe(true);
  });
});

describe("S3ImageStorage on Ceph RGW", () => {
  const bucket = `test-adapter-${Date.now().toString(36)}`;
  const storage = new S3ImageStorage({ ...S3, bucket, region: "us-east-1", forcePathStyle: true });

  test("creates its bucket (twice is fine), round-trips bytes, deletes", async () => {
    await storage.ensureReady();
    await storage.ensureReady();
    const bytes = photo("vehicle-bus.jpg");
    await storage.put("ads/x.jpg", bytes, "image/jpeg");
    const got = await storage.get("ads/x.jpg");
    expect(got!.contentType).toBe("image/jpeg");
    expect(Buffer.from(got!.bytes).equals(Buffer.from(bytes))).toBe(true);
    await storage.delete("ads/x.jpg");
    expect(await storage.get("ads/x.jpg")).toBeNull();
    await storage.ping();
  });

  test("stream: the bytes (a multi-megabyte object too), size, type and the server's ETag; 304 from the server to a matching tag", async () => {
    await storage.ensureReady();
    const big = new Uint8Array(3_000_001).map((_, i) => (i * 131) & 0xff);
    await storage.put("ads/big.png", big, "image/png");
    const o = await storage.stream("ads/big.png");
    if (!o || o.notModified) throw new Error("expected a body");
    expect([o.size, o.contentType]).toEqual([big.length, "image/png"]);
    expect(o.etag).toMatch(/^"[0-9a-f]{32}"$/); // RGW's MD5 of a single-part upload
    expect(Buffer.from(await new Response(o.body).arrayBuffer()).equals(Buffer.from(big))).toBe(true);
    for (const inm of [o.etag, `W/${o.etag}`, `"x", ${o.etag}`, "*"]) expect(await storage.stream("ads/big.png", { ifNoneMatch: inm })).toEqual({ notModified: true, etag: o.etag });
    const other = await storage.stream("ads/big.png", { ifNoneMatch: '"0123"' });
    expect(other?.notModified).toBe(false);
    await (other as { body: ReadableStream }).body.cancel(); // cancelling mid-object is fine
    expect(await storage.stream("ads/missing.jpg")).toBeNull();
    await storage.delete("ads/big.png");
  });

  test("list: keys under a prefix with size and last-modified, in pages", async () => {
    await storage.ensureReady();
    const keys = ["ads/l-c.jpg", "ads/l-a.jpg", "ads/l-b.jpg", "ads/l-d.jpg", "ads/l-e.jpg"];
    for (const k of keys) await storage.put(k, new Uint8Array(k.length), "image/jpeg");
    await storage.put("other/l-x.jpg", new Uint8Array(1), "image/jpeg");
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ObjectPage = await storage.list("ads/l-", { cursor, limit: 2 });
      expect(page.objects.length).toBeLessThanOrEqual(2);
      for (const o of page.objects) {
        expect(o.size).toBe(o.key.length);
        expect(Math.abs(Date.now() - o.lastModified.getTime())).toBeLessThan(5 * 60_000);
      }
      seen.push(...page.objects.map((o) => o.key));
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...keys].sort());
    for (const k of [...keys, "other/l-x.jpg"]) await storage.delete(k);
    expect(await storage.list("ads/l-")).toEqual({ objects: [], cursor: null });
  });

  test("stream: a server that stalls mid-body fails the read after the request timeout (a slow reader does not)", async () => {
    // A stand-in S3 server: headers and 100 of 1000 bytes, then nothing.
    const net = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const server = net.createServer((sock) => {
      sockets.push(sock);
      sock.once("data", () => {
        sock.write("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\nETag: \"abc\"\r\n\r\n");
        sock.write(Buffer.alloc(100, 1));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as import("node:net").AddressInfo).port;
    try {
      const stalled = new S3ImageStorage({ ...S3, endpoint: `http://127.0.0.1:${port}`, bucket, region: "us-east-1", forcePathStyle: true }, 300);
      const o = await stalled.stream("ads/x.jpg");
      if (!o || o.notModified) throw new Error("expected a body");
      expect([o.size, o.etag]).toEqual([1000, '"abc"']);
      const t0 = performance.now();
      const err = await new Response(o.body).arrayBuffer().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyError);
      expect([(err as DependencyError).transient, (err as DependencyError).reason]).toEqual([true, "timeout"]);
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
    // A reader slower than the timeout, against the real server: the timer runs only while a
    // read waits on the server, so it completes.
    const quick = new S3ImageStorage({ ...S3, bucket, region: "us-east-1", forcePathStyle: true }, 300);
    await quick.ensureReady();
    const bytes = new Uint8Array(400_000).map((_, i) => i & 0xff);
    await quick.put("ads/slow.jpg", bytes, "image/jpeg");
    const o = await quick.stream("ads/slow.jpg");
    if (!o || o.notModified) throw new Error("expected a body");
    const reader = o.body.getReader();
    let got = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      got += r.value.length;
      await Bun.sleep(400);
      if (got >= bytes.length) break;
    }
    expect(got).toBe(bytes.length);
    await reader.cancel();
    await quick.delete("ads/slow.jpg");
  }, 30_000);

  test("bad credentials are an error an operator must fix (not transient)", async () => {
    const bad = new S3ImageStorage({ ...S3, secretAccessKey: "wrong-secret", bucket, region: "us-east-1", forcePathStyle: true });
    const e = await failure(bad.put("ads/y.jpg", photo("none-cat.png"), "image/png"));
    expect(e.dependency).toBe("storage");
    expect(e.transient).toBe(false);
  });

  test("a storage server that is down is transient", async () => {
    const down = new S3ImageStorage({ ...S3, endpoint: "http://127.0.0.1:1", bucket, region: "us-east-1", forcePathStyle: true }, 2000);
    const e = await failure(down.ping());
    expect(e.transient).toBe(true);
  });
});
