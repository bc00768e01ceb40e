/**
 * Orphan image collection, over the files storage and over a real Ceph RGW bucket: only old
 * objects under ads/ whose ad has no row are deleted; fresh ones, referenced ones and foreign
 * keys stay; pages are followed; runs are idempotent and safe side by side; a failed lookup
 * deletes nothing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { S3Client, DeleteBucketCommand } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectOrphans, startOrphanCollector, uuidV7Time, type OrphanDeps } from "../../src/consumer/orphans";
import { createLogger, silentLogger } from "../../src/platform/logger";
import { FileImageStorage } from "../../src/storage/files";
import { S3ImageStorage } from "../../src/storage/s3";
import type { ImageStorage } from "../../src/storage/storage";
import { S3 } from "../support/stack";

const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), "ad-service-orphans-"));
const bucket = `test-orphans-${Date.now().toString(36)}`;
const s3 = new S3ImageStorage({ ...S3, bucket, region: "us-east-1", forcePathStyle: true });
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  // Empty and drop the bucket.
  for (let page = await s3.list(""); ; page = await s3.list("", { cursor: page.cursor })) {
    for (const o of page.objects) await s3.delete(o.key);
    if (!page.cursor) break;
  }
  const client = new S3Client({ endpoint: S3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: S3.accessKeyId, secretAccessKey: S3.secretAccessKey } });
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  client.destroy();
});

const IMG = new Uint8Array([0xff, 0xd8, 0xff, 0xd9]);
const idAt = (ms: number) => Bun.randomUUIDv7("hex", ms);

interface Backend {
  name: string;
  storage: () => Promise<ImageStorage>;
  /** The clock the collector sees: files can be back-dated, S3 objects cannot, so S3 moves the clock. */
  clockShift: number;
  /** Makes an object look written `ageMs` ago. */
  age: (storage: ImageStorage, key: string, ageMs: number) => void;
}

const backends: Backend[] = [
  {
    name: "files",
    storage: async () => {
      const s = new FileImageStorage(join(dir, `images-${Math.random().toString(36).slice(2)}`));
      await s.ensureReady();
      return s;
    },
    clockShift: 0,
    age: (s, key, ageMs) => {
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(join((s as FileImageStorage).directory, key), t, t);
    },
  },
  {
    name: "Ceph RGW",
    storage: async () => {
      await s3.ensureReady();
      // One bucket for the file; every test starts from an empty ads/ prefix.
      for (let page = await s3.list("ads/"); ; page = await s3.list("ads/", { cursor: page.cursor })) {
        for (const o of page.objects) await s3.delete(o.key);
        if (!page.cursor) break;
      }
      return s3;
    },
    clockShift: 2 * HOUR, // every object is written "now": the collector runs 2 h in the future
    age: () => {},
  },
];

for (const b of backends) {
  describe(`collectOrphans on ${b.name}`, () => {
    /** The "database": ids with a row. */
    function db(rows: Iterable<string>) {
      const ids = new Set(rows);
      const calls: string[][] = [];
      return { ids, calls, existingIds: async (q: string[]) => (calls.push(q), new Set(q.filter((id) => ids.has(id)))) };
    }
    const deps = (storage: ImageStorage, existingIds: OrphanDeps["existingIds"], extra: Partial<OrphanDeps> = {}): OrphanDeps => ({
      storage,
      existingIds,
      log: silentLogger,
      now: () => Date.now() + b.clockShift,
      ...extra,
    });
    const keys = async (s: ImageStorage, prefix = "") => {
      const out: string[] = [];
      for (let page = await s.list(prefix); ; page = await s.list(prefix, { cursor: page.cursor })) {
        out.push(...page.objects.map((o) => o.key));
        if (!page.cursor) break;
      }
      return out.sort();
    };

    test("deletes only old objects under ads/ whose id has no row", async () => {
      const s = await b.storage();
      const now = Date.now() + b.clockShift;
      const orphan = `ads/${idAt(now - 3 * HOUR)}.jpg`;
      const orphanPng = `ads/${idAt(now - 3 * HOUR)}.png`;
      const withRowId = idAt(now - 3 * HOUR);
      const withRow = `ads/${withRowId}.jpg`;
      const freshOrphan = `ads/${idAt(now - 60_000)}.jpg`; // its row may still be coming
      const oldIdFreshObject = `ads/${idAt(now - 3 * HOUR)}.gif`; // id says old, object says new
      const foreign = ["ads/README.txt", "ads/not-a-uuid.jpg", `other/${idAt(now - 3 * HOUR)}.jpg`, `ads/nested/${idAt(now - 3 * HOUR)}.jpg`];
      for (const k of [orphan, orphanPng, withRow, freshOrphan, oldIdFreshObject, ...foreign]) {
        await s.put(k, IMG, "image/jpeg");
        b.age(s, k, k === freshOrphan || k === oldIdFreshObject ? 60_000 : 3 * HOUR);
      }
      // S3 objects cannot be back-dated (all are old to the shifted clock): the object-age check
      // is covered on files, the id-age check (freshOrphan) on both.
      if (b.clockShift) await s.delete(oldIdFreshObject);
      const d = db([withRowId]);
      const report = await collectOrphans(deps(s, d.existingIds), HOUR);
      expect(report.deleted).toBe(2);
      expect(report.failed).toBe(0);
      const left = await keys(s);
      expect(left).not.toContain(orphan);
      expect(left).not.toContain(orphanPng);
      for (const k of [withRow, freshOrphan, ...foreign]) expect(left).toContain(k);
      if (!b.clockShift) expect(left).toContain(oldIdFreshObject);
      // Only our keys, old enough, were looked up.
      expect(d.calls.flat().sort()).toEqual([orphan, orphanPng, withRow].map((k) => k.slice(4, 40)).sort());
    });

    test("follows pages, looks ids up per batch, and a second run finds nothing (idempotent)", async () => {
      const s = await b.storage();
      const now = Date.now() + b.clockShift;
      const ids = Array.from({ length: 11 }, (_, i) => idAt(now - 2 * HOUR - i * 1000));
      for (const id of ids) {
        await s.put(`ads/${id}.jpg`, IMG, "image/jpeg");
        b.age(s, `ads/${id}.jpg`, 2 * HOUR);
      }
      const kept = new Set(ids.filter((_, i) => i % 3 === 0)); // 4 of 11 have rows
      const d = db(kept);
      const first = await collectOrphans(deps(s, d.existingIds, { batchSize: 3 }), HOUR);
      expect(first).toMatchObject({ scanned: 11, checked: 11, deleted: 7, failed: 0 });
      expect(d.calls.length).toBe(4); // 3 + 3 + 3 + 2
      expect(Math.max(...d.calls.map((c) => c.length))).toBeLessThanOrEqual(3);
      expect(await keys(s, "ads/")).toEqual([...kept].map((id) => `ads/${id}.jpg`).sort());
      const second = await collectOrphans(deps(s, d.existingIds, { batchSize: 3 }), HOUR);
      expect(second).toMatchObject({ scanned: 4, deleted: 0 });
    });

    test("several collectors at once: every orphan deleted, nothing else, no errors", async () => {
      const s = await b.storage();
      const now = Date.now() + b.clockShift;
      const ids = Array.from({ length: 20 }, (_, i) => idAt(now - 2 * HOUR - i));
      for (const id of ids) {
        await s.put(`ads/${id}.jpg`, IMG, "image/jpeg");
        b.age(s, `ads/${id}.jpg`, 2 * HOUR);
      }
      const kept = new Set(ids.slice(0, 5));
      const d = db(kept);
      const reports = await Promise.all([1, 2, 3].map(() => collectOrphans(deps(s, d.existingIds, { batchSize: 4 }), HOUR)));
      expect(reports.every((r) => r.failed === 0)).toBe(true);
      expect(reports.reduce((n, r) => n + r.deleted, 0)).toBeGreaterThanOrEqual(15); // deletes of a gone object count too
      expect(await keys(s, "ads/")).toEqual([...kept].map((id) => `ads/${id}.jpg`).sort());
    });

    test("a failing database lookup deletes nothing and is reported", async () => {
      const s = await b.storage();
      const now = Date.now() + b.clockShift;
      const key = `ads/${idAt(now - 2 * HOUR)}.jpg`;
      await s.put(key, IMG, "image/jpeg");
      b.age(s, key, 2 * HOUR);
      const err = await collectOrphans(deps(s, async () => Promise.reject(new Error("database down"))), HOUR).catch((e: Error) => e);
      expect((err as Error).message).toBe("database down");
      expect(await keys(s, "ads/")).toEqual([key]);
    });

    test("startOrphanCollector: tick runs a pass, the schedule runs by itself, stop stops it", async () => {
      const s = await b.storage();
      const now = Date.now() + b.clockShift;
      const put = async () => {
        const key = `ads/${idAt(now - 2 * HOUR)}.jpg`;
        await s.put(key, IMG, "image/jpeg");
        b.age(s, key, 2 * HOUR);
        return key;
      };
      const lines: string[] = [];
      const log = createLogger({ level: "debug", write: (l: string) => void lines.push(l) });
      const c = startOrphanCollector({ ...deps(s, db([]).existingIds), log }, 200, HOUR);
      try {
        await put();
        const [a, b2] = await Promise.all([c.tick(), c.tick()]); // joined: one pass
        expect(a).toBe(b2);
        expect(a.deleted).toBe(1);
        await put();
        const deadline = Date.now() + 5000;
        while ((await keys(s, "ads/")).length > 0 && Date.now() < deadline) await Bun.sleep(50);
        expect(await keys(s, "ads/")).toEqual([]); // the scheduled pass took it
        expect(lines.some((l) => l.includes("orphan image deleted"))).toBe(true);
      } finally {
        await c.stop();
      }
      const after = await put();
      await Bun.sleep(500);
      expect(await keys(s, "ads/")).toEqual([after]); // stopped: nothing runs any more
    });
  });
}

test("uuidV7Time reads the creation time of a v7 id, and nothing from other versions", () => {
  const t = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  expect(uuidV7Time(Bun.randomUUIDv7("hex", t))).toBe(t);
  expect(uuidV7Time(crypto.randomUUID())).toBeNull();
});
