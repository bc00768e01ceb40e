/**
 * The poster-side statements (withdraw, appeal, the poster's view, the public list, photo hashes,
 * retention) on PostgreSQL and on the embedded PGlite: the same SQL must run on both (bit_count
 * on an XOR, translate() for the Persian search folding, data-modifying CTEs).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdRepository } from "../../src/database/ad-repository";
import { connectDatabase, migrate, type Sql } from "../../src/database/database";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/database/embedded";
import { PosterRepository } from "../../src/database/poster-repository";
import { appealAd, posterView, withdrawAd } from "../../src/domain/poster";
import { PosterKeys } from "../../src/domain/poster-keys";
import { rejectedEmail } from "../../src/domain/notifications";
import { runRetention } from "../../src/consumer/retention";
import { normalizeForSearch } from "../../src/i18n/text";
import { silentLogger } from "../../src/platform/logger";
import { emailsOf, eventsOf } from "../support/rows";
import { createTestDatabase } from "../support/stack";

const keys = new PosterKeys("k".repeat(40));

/** Storage that remembers deletions, and can be told to fail them. */
function fakeStorage() {
  const deleted: string[] = [];
  let failing = false;
  return {
    deleted,
    fail(on: boolean) {
      failing = on;
    },
    async delete(key: string) {
      if (failing) throw new Error("storage down");
      deleted.push(key);
    },
  };
}

for (const backend of ["PostgreSQL", "PGlite"] as const) {
  describe(`poster statements on ${backend}`, () => {
    let sql: Sql;
    let repo: AdRepository;
    let posters: PosterRepository;
    let close: () => Promise<void>;

    beforeAll(async () => {
      if (backend === "PostgreSQL") {
        const db = await createTestDatabase();
        sql = connectDatabase({ url: db.url, max: 4 });
        await migrate(sql);
        close = async () => {
          await sql.end();
          await db.drop();
        };
      } else {
        const root = mkdtempSync(join(tmpdir(), "poster-pglite-"));
        const pg: EmbeddedPostgres = await startEmbeddedPostgres({ dir: join(root, "pg") });
        sql = connectDatabase({ url: pg.url, max: 2 });
        await migrate(sql);
        close = async () => {
          await sql.end();
          await pg.close();
          rmSync(root, { recursive: true, force: true });
        };
      }
      repo = new AdRepository(sql);
      posters = new PosterRepository(sql);
    }, 60_000);
    afterAll(async () => close());

    async function newAd(opts: { description?: string; email?: string; state?: "accepted" | "rejected" | "pending"; category?: string } = {}) {
      const id = Bun.randomUUIDv7();
      const email = opts.email ?? "p@example.com";
      const description = opts.description ?? "A red car";
      await repo.insert({ id, description, email, imageKey: `ads/${id}.jpg`, imageContentType: "image/jpeg", imageBytes: 10, lang: "en" });
      if (opts.state && opts.state !== "pending") {
        await repo.decideAndClaim(id, {
          state: opts.state,
          category: opts.state === "accepted" ? (opts.category ?? "car") : null,
          tags: [{ name: "car", confidence: 99 }],
          actor: "auto",
          reason: "test",
          email: rejectedEmail({ id, email, description, lang: "en" }),
        }, null);
      }
      return id;
    }

    test("withdraw: out of the public list at once, the row keeps only the audit, the photo deleted; a second withdraw changes nothing", async () => {
      const id = await newAd({ state: "accepted" });
      const storage = fakeStorage();
      const deps = { posters, storage: storage as never, keys, log: silentLogger };
      expect((await posters.listAccepted({ limit: 100 })).map((a) => a.id)).toContain(id);
      expect(await withdrawAd(deps, keys.manageToken(id))).toBe(true);
      expect((await posters.listAccepted({ limit: 100 })).map((a) => a.id)).not.toContain(id);
      const [row] = await sql`select state, description, email, tags, category, withdrawn_at, image_deleted_at from ads where id = ${id}`;
      expect(row).toMatchObject({ state: "withdrawn", description: "", email: keys.posterHash("p@example.com"), tags: null, category: null });
      expect(row!.withdrawn_at).toBeInstanceOf(Date);
      expect(row!.image_deleted_at).toBeInstanceOf(Date);
      expect(storage.deleted).toEqual([`ads/${id}.jpg`]);
      expect((await emailsOf(sql, id)).every((e) => e.to_address === keys.posterHash("p@example.com"))).toBe(true);
      expect((await eventsOf(sql, id)).at(-1)).toMatchObject({ from_state: "accepted", to_state: "withdrawn", actor: "poster" });
      expect(await withdrawAd(deps, keys.manageToken(id))).toBe(false);
      expect(storage.deleted).toHaveLength(1);
      expect((await eventsOf(sql, id)).filter((e) => e.to_state === "withdrawn")).toHaveLength(1);
    });

    test("withdraw while storage is down: withdrawn now, the photo deleted by the daily job later", async () => {
      const id = await newAd({ state: "accepted" });
      const storage = fakeStorage();
      storage.fail(true);
      const deps = { posters, storage: storage as never, keys, log: silentLogger };
      expect(await withdrawAd(deps, keys.manageToken(id))).toBe(true);
      expect((await posterView(deps, keys.manageToken(id))).state).toBe("withdrawn");
      expect((await posters.withdrawnWithImages(100)).map((r) => r.id)).toContain(id);
      storage.fail(false);
      const report = await runRetention({ ...deps, retentionDays: 180 });
      expect(report.imagesDeleted).toBeGreaterThanOrEqual(1);
      expect(storage.deleted).toContain(`ads/${id}.jpg`);
      expect((await posters.withdrawnWithImages(100)).map((r) => r.id)).not.toContain(id);
    });

    test("a wrong token is the same as an unknown ad", async () => {
      const deps = { posters, storage: fakeStorage() as never, keys, log: silentLogger };
      const id = await newAd();
      await expect(posterView(deps, new PosterKeys("x".repeat(40)).manageToken(id))).rejects.toMatchObject({ problem: "unknown" });
      await expect(withdrawAd(deps, "nope")).rejects.toMatchObject({ problem: "unknown" });
      await expect(posterView(deps, keys.manageToken(Bun.randomUUIDv7()))).rejects.toMatchObject({ problem: "unknown" });
    });

    test("appeal: once, only a rejection, the note kept, the ad in review; the history names no operator", async () => {
      const deps = { posters, storage: fakeStorage() as never, keys, log: silentLogger };
      const rejected = await newAd({ state: "rejected" });
      const token = keys.manageToken(rejected);
      await expect(appealAd(deps, token, "  ")).rejects.toMatchObject({ problem: "invalid" });
      await expect(appealAd(deps, token, "ب".repeat(1001))).rejects.toMatchObject({ problem: "invalid" });
      expect(await appealAd(deps, token, "It is a car: the photo is dark")).toBe("appealed");
      const [row] = await sql`select state, appeal_note, decided_by from ads where id = ${rejected}`;
      expect(row).toMatchObject({ state: "review", appeal_note: "It is a car: the photo is dark", decided_by: null });
      expect(await appealAd(deps, token, "again")).toBe("already_appealed");
      expect(await appealAd(deps, keys.manageToken(await newAd({ state: "accepted" })), "why")).toBe("not_rejected");
      await sql`insert into ad_events (ad_id, from_state, to_state, actor, reason) values (${rejected}, 'review', 'accepted', 'maryam', 'approved')`;
      const view = await posterView(deps, token);
      expect(view.history.map((h) => `${h.to_state}/${h.by}`)).toEqual(["pending/poster", "rejected/auto", "review/poster", "accepted/moderator"]);
      expect(JSON.stringify(view)).not.toContain("maryam");
      expect(JSON.stringify(view)).not.toContain("confidence");
    });

    test("the public list: accepted only, newest first, by category, keyset pages, Persian text folded", async () => {
      const tag = `t${Bun.randomUUIDv7().slice(-6)}`;
      const a = await newAd({ state: "accepted", category: "bus", description: `Blue bus ${tag}` });
      const b = await newAd({ state: "accepted", category: "car", description: `كيا پرايد ۱۳۹۸ ${tag}` });
      const c = await newAd({ state: "accepted", category: "car", description: `Peugeot 206 ${tag}` });
      await newAd({ state: "rejected", description: `rejected ${tag}` });
      await newAd({ description: `pending ${tag}` });
      const all = await posters.listAccepted({ text: tag, limit: 10 });
      expect(all.map((r) => r.id)).toEqual([c, b, a]);
      expect((await posters.listAccepted({ text: tag, category: "car", limit: 10 })).map((r) => r.id)).toEqual([c, b]);
      const page1 = await posters.listAccepted({ text: tag, limit: 2 });
      const last = page1.at(-1)!;
      expect((await posters.listAccepted({ text: tag, limit: 2, after: { createdAt: last.created_at, id: last.id } })).map((r) => r.id)).toEqual([a]);
      expect((await posters.listAccepted({ text: normalizeForSearch("کیا پراید 1398"), limit: 10 })).map((r) => r.id)).toEqual([b]);
      expect((await posters.listAccepted({ text: "50%_", limit: 10 }))).toEqual([]);
    });

    test("photo hashes: the nearest recent photos within the distance, with whether the poster is the same", async () => {
      const base = 0x0f0f_0f0f_f0f0_f0f0n;
      const mine = await newAd({ email: "me@example.com" });
      const theirs = await newAd({ email: "them@example.com" });
      const far = await newAd({ email: "far@example.com" });
      await posters.recordPhoto(mine, base ^ 0b111n, keys.posterHash("me@example.com"));
      await posters.recordPhoto(theirs, base ^ (1n << 63n), keys.posterHash("them@example.com"));
      await posters.recordPhoto(far, ~base & ((1n << 64n) - 1n), keys.posterHash("far@example.com"));
      const fresh = await newAd({ email: "me@example.com" });
      const matches = await posters.similarPhotos(fresh, base, keys.posterHash("me@example.com"), { maxDistance: 12, days: 90 });
      expect(matches.map((m) => [m.id, m.samePoster, m.distance])).toEqual([
        [theirs, false, 1],
        [mine, true, 3],
      ]);
      expect(await posters.photoHashOf(theirs)).toBe(base ^ (1n << 63n));
    });

    test("retention: old decided ads' addresses become the poster hash (ads and e-mails), old withdrawn rows are purged; a second run changes nothing", async () => {
      const storage = fakeStorage();
      const deps = { posters, storage: storage as never, keys, log: silentLogger, retentionDays: 30 };
      const old = await newAd({ state: "accepted", email: "old@example.com" });
      const recent = await newAd({ state: "accepted", email: "recent@example.com" });
      const gone = await newAd({ state: "accepted", email: "gone@example.com" });
      await withdrawAd({ ...deps }, keys.manageToken(gone));
      await sql`update ads set decided_at = now() - interval '31 days' where id = ${old}`;
      await sql`update ads set withdrawn_at = now() - interval '31 days' where id = ${gone}`;
      const first = await runRetention(deps);
      expect(first.redacted).toBeGreaterThanOrEqual(1);
      expect(first.purged).toBeGreaterThanOrEqual(1);
      const [o] = await sql`select email, email_redacted_at from ads where id = ${old}`;
      expect(o!.email).toBe(keys.posterHash("old@example.com"));
      expect((await emailsOf(sql, old)).every((e) => e.to_address === keys.posterHash("old@example.com"))).toBe(true);
      const [r] = await sql`select email from ads where id = ${recent}`;
      expect(r!.email).toBe("recent@example.com");
      expect(await sql`select 1 from ads where id = ${gone}`).toHaveLength(0);
      expect(await sql`select 1 from ad_events where ad_id = ${gone}`).toHaveLength(0);
      const second = await runRetention(deps);
      expect(second).toEqual({ redacted: 0, imagesDeleted: 0, purged: 0 });
    });
  });
}
