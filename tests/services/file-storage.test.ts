import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DependencyError } from "../../src/services/errors";
import { FileImageStorage } from "../../src/services/file-storage";
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
