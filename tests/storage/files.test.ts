import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DependencyError } from "../../src/domain/errors";
import { FileImageStorage } from "../../src/storage/files";
import type { ObjectInfo, ObjectPage } from "../../src/storage/storage";
import { photo } from "../support/fixtures";

const dir = mkdtempSync(join(tmpdir(), "ad-service-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("round-trips bytes under the same keys as S3, atomically (no temporary files left)", async () => {
  const s = new FileImageStorage(join(dir, "images"));
  await s.ensureReady();
  const bytes = photo("vehicle-bus.jpg");
  await s.put("ads/x.jpg", bytes, "image/jpeg");
  const got = await s.get("ads/x.jpg");
  expect(got!.contentType).toBe("image/jpeg");
  expect(Buffer.from(got!.bytes).equals(Buffer.from(bytes))).toBe(true);
  expect(readdirSync(join(dir, "images", "ads"))).toEqual(["x.jpg"]);
  await s.put("ads/x.jpg", photo("none-cat.png"), "image/png"); // overwrite is atomic too
  expect((await s.get("ads/x.jpg"))!.bytes.length).toBe(photo("none-cat.png").length);
  await s.delete("ads/x.jpg");
  expect(await s.get("ads/x.jpg")).toBeNull();
  await s.delete("ads/x.jpg"); // deleting twice is fine
  await s.ping();
});

test("a key can never leave the directory", async () => {
  const s = new FileImageStorage(join(dir, "images"));
  for (const key of ["../escape.jpg", "ads/../../escape.jpg", "/etc/passwd"]) {
    const err = await s.put(key, new Uint8Array([1]), "image/jpeg").catch((e) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err.transient).toBe(false);
  }
});

test("a missing directory makes ping fail (readiness)", async () => {
  const err = await new FileImageStorage(join(dir, "does-not-exist")).ping().catch((e) => e);
  expect(err).toBeInstanceOf(DependencyError);
});

describe("stream and list", () => {
  const fds = () => readdirSync("/proc/self/fd").length;
  const bytesOf = async (o: Awaited<ReturnType<FileImageStorage["stream"]>>) => {
    if (!o || o.notModified) throw new Error("expected a body");
    return new Uint8Array(await new Response(o.body).arrayBuffer());
  };

  test("stream: the bytes in chunks, size, type and a stable quoted ETag; 304-style answer to a matching tag", async () => {
    const s = new FileImageStorage(join(dir, "stream"));
    await s.ensureReady();
    const big = new Uint8Array(1_000_003).map((_, i) => (i * 31) & 0xff); // several 64 KiB chunks
    await s.put("ads/big.png", big, "image/png");
    const o = await s.stream("ads/big.png");
    expect(o && !o.notModified && [o.size, o.contentType]).toEqual([big.length, "image/png"]);
    const etag = (o as { etag: string }).etag;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(Buffer.from(await bytesOf(o)).equals(Buffer.from(big))).toBe(true);

    const again = await s.stream("ads/big.png", { ifNoneMatch: etag });
    expect(again).toEqual({ notModified: true, etag });
    expect(await s.stream("ads/big.png", { ifNoneMatch: `"nope", W/${etag}` })).toEqual({ notModified: true, etag });
    const other = await s.stream("ads/big.png", { ifNoneMatch: '"nope"' });
    expect(other?.notModified).toBe(false);
    await (other as { body: ReadableStream }).body.cancel();

    await Bun.sleep(5);
    await s.put("ads/big.png", photo("none-cat.png"), "image/png"); // replaced: a new tag
    const replaced = await s.stream("ads/big.png", { ifNoneMatch: etag });
    expect(replaced?.notModified).toBe(false);
    expect((replaced as { etag: string }).etag).not.toBe(etag);
    expect((await bytesOf(replaced)).length).toBe(photo("none-cat.png").length);

    expect(await s.stream("ads/missing.jpg")).toBeNull();
  });

  test("stream: a cancelled, fully read or dropped stream leaves no file descriptor open", async () => {
    const s = new FileImageStorage(join(dir, "fds"));
    await s.ensureReady();
    await s.put("ads/a.jpg", new Uint8Array(300_000).fill(7), "image/jpeg");
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const o = await s.stream("ads/a.jpg");
      if (!o || o.notModified) throw new Error("expected a body");
      if (i % 2) await o.body.cancel();
      else {
        const r = o.body.getReader();
        await r.read(); // part of it, then cancel
        await r.cancel();
      }
      await bytesOf(await s.stream("ads/a.jpg"));
      await s.stream("ads/a.jpg", { ifNoneMatch: "*" });
      await s.stream("ads/a.jpg"); // dropped unread: must neither leak nor blow up when collected
    }
    Bun.gc(true);
    await Bun.sleep(20);
    expect(fds() - before).toBeLessThanOrEqual(1);
  });

  test("list: keys under a prefix in order, with size and last-modified, in pages; temporary files never", async () => {
    const s = new FileImageStorage(join(dir, "list"));
    await s.ensureReady();
    expect(await s.list("ads/")).toEqual({ objects: [], cursor: null }); // no ads/ directory yet
    const keys = ["ads/c.jpg", "ads/a.jpg", "ads/b.png", "ads/d.gif", "ads/e.webp"];
    for (const k of keys) await s.put(k, new Uint8Array(k.length), "image/jpeg");
    await s.put("other/x.jpg", new Uint8Array(1), "image/jpeg");
    writeFileSync(join(dir, "list", "ads", "f.jpg.123.abcd.tmp"), "half"); // a write in progress (or cut by a crash)
    const past = new Date(Date.now() - 7_200_000);
    utimesSync(join(dir, "list", "ads", "a.jpg"), past, past);

    const seen: ObjectInfo[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ObjectPage = await s.list("ads/", { cursor, limit: 2 });
      expect(page.objects.length).toBeLessThanOrEqual(2);
      seen.push(...page.objects);
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((o) => o.key)).toEqual([...keys].sort());
    expect(seen.find((o) => o.key === "ads/b.png")!.size).toBe("ads/b.png".length);
    expect(Math.abs(seen.find((o) => o.key === "ads/a.jpg")!.lastModified.getTime() - past.getTime())).toBeLessThan(1000);
    expect(Date.now() - seen.find((o) => o.key === "ads/c.jpg")!.lastModified.getTime()).toBeLessThan(60_000);
    expect((await s.list("ads/b")).objects.map((o) => o.key)).toEqual(["ads/b.png"]);
    expect((await s.list("")).objects.map((o) => o.key)).toContain("other/x.jpg");
  });
});
