/**
 * The embedded database (PGlite behind our wire server) with the app's own SQL: migrations, the
 * repository, two postgres.js pools at once (main thread + worker thread), persistence, the
 * data-directory lock (also on its own: the paths a full start does not reach).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { AdRepository } from "../../src/database/ad-repository";
import { connectDatabase, migrate, MIGRATIONS, type Sql } from "../../src/database/database";
import { DataDirLockedError, startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/database/embedded";
import { acquireLock } from "../../src/database/embedded/data-dir-lock";
import { rejectedEmail } from "../../src/domain/notifications";
import { emailsOf } from "../support/rows";

const root = mkdtempSync(join(tmpdir(), "embedded-pg-test-"));
const dir = join(root, "pg");
let pg: EmbeddedPostgres;
let sql: Sql;
let repo: AdRepository;

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dir });
  sql = connectDatabase({ url: pg.url, max: 10 });
  repo = new AdRepository(sql);
}, 60_000);
afterAll(async () => {
  await sql?.end();
  await pg?.close();
  rmSync(root, { recursive: true, force: true });
});

async function newAd(r = repo) {
  const id = Bun.randomUUIDv7();
  await r.insert({ id, description: "A red car", email: "p@example.com", imageKey: `ads/${id}.jpg`, imageContentType: "image/jpeg", imageBytes: 10, lang: "en" });
  return id;
}
const decision = (id: string) => ({
  state: "rejected" as const,
  category: null,
  tags: [{ name: "tree", confidence: 99 }],
  actor: "auto",
  reason: "test",
  email: rejectedEmail({ id, email: "p@example.com", description: "A red car", lang: "en" }),
});

/** A child process that is alive for the duration of `fn`, and the PID of one that has exited. */
async function withLivePid<T>(fn: (pid: number) => Promise<T>): Promise<T> {
  const child = Bun.spawn(["sleep", "30"]);
  try {
    return await fn(child.pid);
  } finally {
    child.kill();
    await child.exited;
  }
}
async function deadPid(): Promise<number> {
  const child = Bun.spawn(["true"]);
  await child.exited;
  return child.pid;
}

describe("the app's SQL on PGlite", () => {
  test("migrations apply, once", async () => {
    expect(await migrate(sql)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(sql)).toEqual([]);
    const [row] = await sql<{ fsync: string }[]>`select current_setting('fsync') as fsync`;
    expect(row!.fsync).toBe("off");
  });

  test("insert, get, one decision (conditional update), e-mail lease, scheduler claim with SKIP LOCKED", async () => {
    const id = await newAd();
    expect(await repo.get(id)).toMatchObject({ id, state: "pending", attempts: 0 });
    const results = await Promise.all([1, 2, 3, 4].map(() => repo.decideAndClaim(id, decision(id), null).then((r) => r.won)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repo.get(id)).toMatchObject({ state: "rejected", decided_by: "auto", tags: [{ name: "tree", confidence: 99 }] });

    const claimed = await repo.claimEmails(id, "w1", 60_000);
    expect(claimed).toHaveLength(1);
    expect(await repo.claimEmails(id, "w2", 60_000)).toHaveLength(0); // leased
    expect(await repo.markEmailSent(claimed[0]!.id, "w1", "provider-1")).toBe(true);
    expect((await emailsOf(sql, id))[0]).toMatchObject({ status: "sent", provider_id: "provider-1" });

    const due = await newAd();
    await sql`update ads set dispatch_hold_until = null where id = ${due}`;
    expect((await repo.claimDue(100, 10_000)).map((d) => d.id)).toContain(due);
    expect((await repo.claimDue(100, 10_000)).map((d) => d.id)).not.toContain(due); // held
  });

  test("constraint violations keep their SQLSTATE", async () => {
    const id = await newAd();
    const err = await repo.insert({ id, description: "x", email: "p@example.com", imageKey: "k", imageContentType: "image/jpeg", imageBytes: 1, lang: "en" }).catch((e) => e);
    expect(err.cause?.code ?? err.code).toBe("23505");
  });
});

describe("two pools at once (main thread + worker thread)", () => {
  test("mixed concurrent statements never see each other's results", async () => {
    const a = connectDatabase({ url: pg.url, max: 10 });
    const b = connectDatabase({ url: pg.url, max: 10 });
    try {
      await a`create table if not exists probe (id int primary key)`;
      await a`insert into probe values (1) on conflict do nothing`;
      let wrong = 0;
      let unexpected = 0;
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < 600; i++) {
        const p = i % 2 ? a : b;
        const kind = i % 5;
        const q =
          kind === 0
            ? p.unsafe(`select $1::int as v, ${i} as k`, [i]) // unnamed statement, described first: two round trips
            : kind === 1
              ? p`insert into probe values (1) returning ${i}::int as v` // always fails: 23505
              : kind === 2
                ? p.unsafe(`select nope_${i}, $1::int as v from probe`, [i]) // fails at Parse: 42703
                : p`select ${i}::int as v, repeat('x', ${(i % 7) * 20000}) as pad`; // large replies
        jobs.push(
          q.then(
            (rows) => {
              if (kind === 1 || kind === 2 || rows[0]?.v !== i) wrong++;
            },
            (e) => {
              if (!((kind === 1 && e.code === "23505") || (kind === 2 && e.code === "42703"))) unexpected++;
            },
          ),
        );
      }
      await Promise.all(jobs);
      expect({ wrong, unexpected }).toEqual({ wrong: 0, unexpected: 0 });
    } finally {
      await a.end();
      await b.end();
    }
  }, 60_000);

  test("transactions from both pools at once run one at a time and keep their own writes", async () => {
    const a = connectDatabase({ url: pg.url, max: 10 });
    const b = connectDatabase({ url: pg.url, max: 10 });
    try {
      await a`create table if not exists tx_probe (id int primary key, n int not null)`;
      await a`delete from tx_probe`;
      let inside = 0;
      let maxInside = 0;
      const jobs = Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b)
          .begin(async (tx) => {
            maxInside = Math.max(maxInside, ++inside);
            try {
              await tx`insert into tx_probe values (${i}, 0)`;
              await Bun.sleep(2); // the app awaits other things inside transactions too
              await tx`update tx_probe set n = n + 1 where id = ${i}`;
              if (i % 4 === 0) throw new Error("roll back");
            } finally {
              inside--;
            }
          })
          .catch((e) => {
            if (e.message !== "roll back") throw e;
          }),
      );
      // Plain statements from both pools meanwhile: they wait for the open transaction, then run.
      const plain = Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a)`select ${i}::int as v`.then((r) => r[0]!.v));
      await Promise.all(jobs);
      expect(await Promise.all(plain)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(maxInside).toBe(1); // serialised by the wire server (a real PostgreSQL would overlap them)
      const [row] = await a<{ c: number; s: number }[]>`select count(*)::int as c, coalesce(sum(n), 0)::int as s from tx_probe`;
      expect(row).toEqual({ c: 30, s: 30 });
    } finally {
      await a.end();
      await b.end();
    }
  }, 60_000);

  test("a connection lost inside a transaction is rolled back and the others go on", async () => {
    const a = postgres(pg.url, { max: 1, onnotice: () => {} });
    await a`create table if not exists lost_probe (id int)`;
    const reserved = await a.reserve();
    await reserved`begin`;
    await reserved`insert into lost_probe values (42)`;
    const b = connectDatabase({ url: pg.url, max: 2 });
    const waiting = b`select count(*)::int as c from lost_probe where id = 42`; // waits: the backend is in a's transaction
    await Bun.sleep(50);
    await a.end({ timeout: 0 }); // drops the connection without COMMIT
    expect((await waiting)[0]!.c).toBe(0);
    await b.end();
  }, 30_000);

  test("more connections than allowed get a clear error, not a hang", async () => {
    const small = await startEmbeddedPostgres({ dir: join(root, "small"), maxConnections: 2 });
    const pools = [1, 2, 3].map(() => postgres(small.url, { max: 1, onnotice: () => {}, connect_timeout: 5 }));
    try {
      const held = [await pools[0]!.reserve(), await pools[1]!.reserve()];
      await expect(pools[2]!`select 1`).rejects.toMatchObject({ code: "53300" });
      for (const r of held) r.release();
    } finally {
      for (const p of pools) await p.end({ timeout: 0 });
      await small.close();
    }
  }, 60_000);

  test("a wrong password is refused", async () => {
    const bad = postgres(pg.url.replace(/:[0-9a-f]+@/, ":wrong@"), { max: 1, onnotice: () => {} });
    await expect(bad`select 1`).rejects.toMatchObject({ code: "28P01" });
    await bad.end();
  });
});

describe("the data directory", () => {
  test("a second start on the same directory while it is open is refused", async () => {
    const err = await startEmbeddedPostgres({ dir }).catch((e) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect(err.message).toContain(`pid ${process.pid}`);
    // ...also when the holder is another live process.
    await withLivePid(async (pid) => {
      const other = join(root, "other");
      const first = await startEmbeddedPostgres({ dir: other });
      await first.close();
      writeFileSync(join(other, ".lock"), `${pid}\n`);
      const e = await startEmbeddedPostgres({ dir: other }).catch((x) => x);
      expect(e).toBeInstanceOf(DataDirLockedError);
      expect(e.message).toContain(`pid ${pid}`);
    });
  }, 60_000);

  test("closed and reopened, the data persists; a stale lock (dead PID) is taken over", async () => {
    const id = await newAd();
    await sql.end();
    await pg.close();
    writeFileSync(join(dir, ".lock"), `${await deadPid()}\n`); // as left by a SIGKILL
    pg = await startEmbeddedPostgres({ dir });
    sql = connectDatabase({ url: pg.url, max: 10 });
    repo = new AdRepository(sql);
    expect(await repo.get(id)).toMatchObject({ id, state: "pending" });
    expect(await migrate(sql)).toEqual([]);
    expect(await Bun.file(join(dir, ".lock")).text()).toBe(`${process.pid}\n`);
  }, 60_000);

  test("a first start that crashed before completing is redone", async () => {
    const crashed = join(root, "crashed");
    const first = await startEmbeddedPostgres({ dir: crashed });
    await first.close();
    rmSync(join(crashed, "pgdata", ".ad-service-ready")); // as if killed during the first start
    writeFileSync(join(crashed, "pgdata", "PG_VERSION"), "garbage");
    const again = await startEmbeddedPostgres({ dir: crashed });
    const s = postgres(again.url, { max: 1, onnotice: () => {} });
    expect((await s`select 1 as one`)[0]!.one).toBe(1);
    await s.end();
    await again.close();
  }, 60_000);
});

describe("the lock on its own (embedded-postgres/data-dir-lock.ts)", () => {
  test("an empty lock file (a crash between create and write) is taken over", () => {
    const d = join(root, "lock-empty");
    mkdirSync(d);
    writeFileSync(join(d, ".lock"), "");
    const release = acquireLock(d);
    expect(readLock(d)).toBe(`${process.pid}\n`);
    release();
    expect(existsSync(join(d, ".lock"))).toBe(false);
  });

  test("release is idempotent and leaves a lock that another process has taken since", () => {
    const d = join(root, "lock-taken");
    mkdirSync(d);
    const release = acquireLock(d);
    writeFileSync(join(d, ".lock"), "999999999\n"); // e.g. taken over as stale by another process
    release();
    release();
    expect(readLock(d)).toBe("999999999\n");
  });
});

function readLock(d: string): string {
  return readFileSync(join(d, ".lock"), "utf8");
}
