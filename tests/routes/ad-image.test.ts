/**
 * GET /ads/:id/image: streamed from storage, `Cache-Control: no-cache` with an ETag, 304 to a
 * matching If-None-Match, and every request re-checks the ad: a photo stops being served the
 * moment its ad stops being accepted. Runs over PostgreSQL + Ceph RGW and over the embedded
 * defaults (PGlite + files).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { photo } from "../support/fixtures";
import { buildTestApp } from "../support/app";
import { loadContract, type Contract } from "../support/contract";
import { startTestStack, type StackMode } from "../support/stack";

for (const mode of ["real", "embedded"] as StackMode[]) {
  describe(`GET /ads/:id/image (${mode === "real" ? "PostgreSQL + Ceph RGW" : "PGlite + files"})`, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let t: Awaited<ReturnType<typeof buildTestApp>>;
    let server: ReturnType<typeof Bun.serve>;
    let contract: Contract; // every answer is checked against the served API document

    beforeAll(async () => {
      stack = await startTestStack({}, mode);
      t = await buildTestApp(stack.config);
      contract = await loadContract(t.app);
      server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => t.app.handle(r) });
    }, 60_000);
    afterAll(async () => {
      server?.stop(true);
      await t?.close();
      await stack?.stop();
    });

    /** An ad row with its image stored, as intake leaves it, then moved to `state`. */
    async function ad(file: string, state: "pending" | "accepted" | "rejected" | "failed"): Promise<{ id: string; bytes: Uint8Array }> {
      const id = Bun.randomUUIDv7();
      const bytes = photo(file);
      const type = file.endsWith(".png") ? "image/png" : "image/jpeg";
      const key = `ads/${id}.${file.endsWith(".png") ? "png" : "jpg"}`;
      await t.storage.put(key, bytes, type);
      await t.sql`insert into ads (id, description, email, image_key, image_content_type, image_bytes) values (${id}, 'A car', 'p@example.com', ${key}, ${type}, ${bytes.length})`;
      await setState(id, state);
      return { id, bytes };
    }
    const setState = (id: string, state: string) =>
      t.sql`update ads set state = ${state}, category = ${state === "accepted" ? "car" : null}, decided_at = now() where id = ${id}`;
    const get = (id: string, headers: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${server.port}/ads/${id}/image`, { headers }).then((res) => contract.checkResponse("GET", "/ads/{id}/image", res));

    test("200: the bytes, streamed, with Content-Type, an ETag and Cache-Control: no-cache", async () => {
      const { id, bytes } = await ad("vehicle-car-rear.jpg", "accepted");
      const res = await get(id);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      // Bun sends a streamed body chunked (it drops our Content-Length); either framing is fine.
      if (res.headers.get("content-length") !== null) expect(res.headers.get("content-length")).toBe(String(bytes.length));
      else expect(res.headers.get("transfer-encoding")).toBe("chunked");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const etag = res.headers.get("etag");
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
      // The same object always has the same tag.
      const again = await get(id);
      expect(again.headers.get("etag")).toBe(etag);
      await again.body?.cancel();
      // PNG too.
      const png = await ad("none-cat.png", "accepted");
      const r2 = await get(png.id);
      expect(r2.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await r2.arrayBuffer()).equals(Buffer.from(png.bytes))).toBe(true);
      expect(r2.headers.get("etag")).not.toBe(etag);
    });

    test("304 without a body to a matching If-None-Match (strong, weak or in a list); 200 to another tag", async () => {
      const { id, bytes } = await ad("vehicle-bus.jpg", "accepted");
      const etag = (await get(id).then(async (r) => (await r.arrayBuffer(), r))).headers.get("etag")!;
      for (const inm of [etag, `W/${etag}`, `"something-else", ${etag}`, "*"]) {
        const res = await get(id, { "if-none-match": inm });
        expect([inm, res.status]).toEqual([inm, 304]);
        expect(res.headers.get("etag")).toBe(etag);
        expect(res.headers.get("cache-control")).toBe("no-cache");
        expect((await res.arrayBuffer()).byteLength).toBe(0);
      }
      const other = await get(id, { "if-none-match": '"something-else"' });
      expect(other.status).toBe(200);
      expect((await other.arrayBuffer()).byteLength).toBe(bytes.length);
    });

    test("an operator's rejection takes effect on the very next request, even for a client holding the ETag", async () => {
      const { id } = await ad("vehicle-car-rear.jpg", "accepted");
      const first = await get(id);
      const etag = first.headers.get("etag")!;
      await first.arrayBuffer();
      expect((await get(id, { "if-none-match": etag })).status).toBe(304);
      await setState(id, "rejected"); // the decision commits...
      const after = await get(id, { "if-none-match": etag }); // ...and the next revalidation is refused
      expect(after.status).toBe(404);
      expect(after.headers.get("etag")).toBeNull();
      expect(((await after.json()) as { error: { code: string } }).error.code).toBe("not_found");
      expect((await get(id)).status).toBe(404);
      // Accepted again by an operator: served again.
      await setState(id, "accepted");
      expect((await get(id, { "if-none-match": etag })).status).toBe(304);
    });

    test("pending, failed, unknown and malformed ids: 404, never an ETag", async () => {
      for (const state of ["pending", "failed"] as const) {
        const { id } = await ad("vehicle-bus.jpg", state);
        const res = await get(id);
        expect([state, res.status, res.headers.get("etag")]).toEqual([state, 404, null]);
      }
      expect((await get(Bun.randomUUIDv7())).status).toBe(404);
      expect((await get("not-an-id")).status).toBe(404);
    });
  });
}
