import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openDatabase } from "../../src/compose";
import { loadConfig } from "../../src/config";
import { AdRepository } from "../../src/database/ad-repository";
import { AdminRepository } from "../../src/database/admin-repository";
import { connectDatabase, migrate, MIGRATIONS, withDatabaseErrors, type Sql } from "../../src/database/database";
import { DependencyError } from "../../src/domain/errors";
import { silentLogger } from "../../src/platform/logger";
import { rejectedEmail } from "../../src/domain/notifications";
import { createTestDatabase } from "../support/stack";
import { emailsOf, eventsOf } from "../support/rows";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: Sql;
let repo: AdRepository;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = connectDatabase({ url: db.url, max: 4 });
  await migrate(sql);
  repo = new AdRepository(sql);
});
afterAll(async () => {
  await sql.end();
  await db.drop();
});

async function newAd() {
  const id = Bun.randomUUIDv7();
  await repo.insert({ id, description: "A red car", email: "p@example.com", imageKey: `ads/${id}.jpg`, imageContentType: "image/jpeg", imageBytes: 10, lang: "en" });
  return id;
}

const decision = (state: "accepted" | "rejected", id: string) => ({
  state,
  category: state === "accepted" ? "car" : null,
  tags: [{ name: "car", confidence: 99 }],
  actor: "auto",
  reason: "test",
  email: rejectedEmail({ id, email: "p@example.com", description: "A red car", lang: "en" }),
});

describe("migrations", () => {
  test("are idempotent and recorded", async () => {
    expect(await migrate(sql)).toEqual([]);
    const rows = await sql`select version from schema_migrations`;
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });
  test("a schema newer than the build is refused", async () => {
    await sql`insert into schema_migrations (version, name) values (999, 'from the future')`;
    try {
      await expect(migrate(sql)).rejects.toThrow("schema is at version 999");
    } finally {
      await sql`delete from schema_migrations where version = 999`;
    }
  });
});

describe("AdRepository", () => {
  test("insert writes the ad and a 'submitted' history entry", async () => {
    const id = await newAd();
    const ad = await repo.get(id);
    expect(ad).toMatchObject({ id, state: "pending", attempts: 0, category: null });
    expect((await eventsOf(sql, id)).map((e) => [e.from_state, e.to_state, e.actor])).toEqual([[null, "pending", "poster"]]);
  });

  test("a decision is recorded once: the second conditional update changes nothing", async () => {
    const id = await newAd();
    expect(await repo.decideAndClaim(id, decision("accepted", id), null).then((r) => r.won)).toBe(true);
    expect(await repo.decideAndClaim(id, decision("rejected", id), null).then((r) => r.won)).toBe(false);
    const ad = await repo.get(id);
    expect(ad).toMatchObject({ state: "accepted", category: "car", decided_by: "auto" });
    expect(ad!.tags).toEqual([{ name: "car", confidence: 99 }]);
    expect(await emailsOf(sql, id)).toHaveLength(1);
    expect((await eventsOf(sql, id)).map((e) => e.to_state)).toEqual(["pending", "accepted"]);
  });

  test("decideAndClaim: one statement decides, audits and returns the e-mail already leased to the caller", async () => {
    const id = await newAd();
    const first = await repo.decideAndClaim(id, decision("accepted", id), { owner: "w1", ms: 60_000 });
    expect(first.won).toBe(true);
    expect(first.email).toMatchObject({ ad_id: id, status: "sending", attempts: 1, kind: "rejected", lease_owner: "w1" });
    expect(await repo.claimEmails(id, "w2", 60_000)).toEqual([]); // leased to the first caller
    const again = await repo.decideAndClaim(id, decision("rejected", id), { owner: "w2", ms: 60_000 });
    expect(again).toEqual({ won: false, email: null });
    expect((await eventsOf(sql, id)).map((e) => e.to_state)).toEqual(["pending", "accepted"]);
    expect(await emailsOf(sql, id)).toHaveLength(1);
    // Held for review: decided, no e-mail.
    const held = await newAd();
    expect(await repo.decideAndClaim(held, { ...decision("accepted", held), state: "review", category: null, email: null }, { owner: "w1", ms: 60_000 })).toEqual({ won: true, email: null });
    expect(await repo.get(held)).toMatchObject({ state: "review", decided_at: null });
  });

  test("concurrent decisions on one ad: exactly one wins", async () => {
    const id = await newAd();
    const results = await Promise.all([1, 2, 3, 4].map(() => repo.decideAndClaim(id, decision("rejected", id), null).then((r) => r.won)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await emailsOf(sql, id)).toHaveLength(1);
  });

  test("e-mails are leased: a second claim gets nothing; only the lease holder records the send", async () => {
    const id = await newAd();
    await repo.decideAndClaim(id, decision("rejected", id), null).then((r) => r.won);
    const [first] = await repo.claimEmails(id, "w1", 60_000);
    expect(first).toMatchObject({ status: "sending", attempts: 1, lease_owner: "w1" });
    expect(await repo.claimEmails(id, "w2", 60_000)).toEqual([]);
    expect(await repo.markEmailSent(first!.id, "w2", "<y@mg>")).toBe(false); // not w2's lease
    expect(await repo.markEmailSent(first!.id, "w1", "<x@mg>")).toBe(true);
    expect(await repo.claimEmails(id, "w2", 60_000)).toEqual([]);
    expect((await emailsOf(sql, id))[0]).toMatchObject({ status: "sent", provider_id: "<x@mg>" });
  });

  test("an expired e-mail lease (a sender that died) is reaped, queued again and its ad made due for dispatch", async () => {
    const id = await newAd();
    await repo.decideAndClaim(id, decision("rejected", id), null);
    await sql`update ads set dispatched_at = now() where id = ${id}`;
    await repo.claimEmails(id, "dead", 1);
    await Bun.sleep(20);
    expect(await repo.reapExpired()).toBeGreaterThanOrEqual(1);
    expect((await emailsOf(sql, id))[0]).toMatchObject({ status: "queued", lease_owner: null });
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).toContain(id);
    const again = await repo.claimEmails(id, "w2", 60_000);
    expect(again).toHaveLength(1);
    expect(again[0]!.attempts).toBe(2);
  });

  test("an e-mail that failed transiently is not claimed before its backoff is due (the schedule is the schedule)", async () => {
    const id = await newAd();
    await repo.decideAndClaim(id, decision("rejected", id), null);
    const [e] = await repo.claimEmails(id, "w1", 60_000);
    await repo.markEmailError(e!.id, id, "w1", { provider: "mailer", reason: "http_503", transient: true, message: "503" }, false, 3000);
    expect(await repo.claimEmails(id, "w1", 60_000)).toEqual([]); // not due
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).not.toContain(id); // nor dispatched early
    expect(await repo.undispatchOverdue(1, 1000)).not.toContain(id); // the slow sweep does not hurry it either
    await sql`update emails set next_attempt_at = now() - interval '1 millisecond' where id = ${e!.id}`;
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).toContain(id);
    expect(await repo.claimEmails(id, "w1", 60_000)).toHaveLength(1);
  });

  test("processing is claimed once, counted before the work, and only when due", async () => {
    const id = await newAd();
    const a = await repo.claimProcessing(id, "w1", 60_000);
    expect(a).toMatchObject({ processing_starts: 1, lease_owner: "w1" });
    expect(await repo.claimProcessing(id, "w2", 60_000)).toBeNull(); // w1 holds it
    await repo.recordAttemptFailure(id, { provider: "tagger", reason: "http_503", transient: true, message: "down" }, 5000);
    expect(await repo.get(id)).toMatchObject({ processing_starts: 0, lease_owner: null, dispatched_at: null, attempts: 1 });
    expect(await repo.claimProcessing(id, "w2", 60_000)).toBeNull(); // not due for 5 s
    await sql`update ads set next_attempt_at = now() where id = ${id}`;
    expect(await repo.claimProcessing(id, "w2", 60_000)).toMatchObject({ processing_starts: 1 });
  });

  test("new ads are held for intake's own publish; a confirmed mark of stale work changes nothing", async () => {
    const id = await newAd();
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).not.toContain(id); // intake's hold
    const { dispatch_gen } = (await repo.get(id))!;
    await repo.recordAttemptFailure(id, { provider: "tagger", reason: "x", transient: true, message: "x" }, 0);
    await repo.markDispatched([{ id, gen: dispatch_gen }]); // late mark for the first dispatch
    expect((await repo.get(id))!.dispatched_at).toBeNull(); // the retry is still to be dispatched
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).toContain(id);
  });

  test("released leases make work due at once; a clean stop takes back the start it counted", async () => {
    const id = await newAd();
    await repo.claimProcessing(id, "gone", 60_000);
    expect(await repo.leaseOwners()).toContain("gone");
    expect(await repo.releaseLeases(["gone"], true)).toBe(1);
    expect(await repo.get(id)).toMatchObject({ lease_owner: null, processing_starts: 0, dispatched_at: null });
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).toContain(id);
  });

  test("the slow sweep re-dispatches work the broker accepted long ago and never finished", async () => {
    const fresh = await newAd();
    const lost = await newAd();
    await sql`update ads set dispatched_at = now() - interval '1 hour', next_attempt_at = now() - interval '1 hour' where id in (${fresh}, ${lost})`;
    await sql`update ads set dispatched_at = now() where id = ${fresh}`;
    const ids = await repo.undispatchOverdue(60_000, 100);
    expect(ids).toContain(lost);
    expect(ids).not.toContain(fresh);
    expect(await repo.undispatchOverdue(60_000, 100)).not.toContain(lost);
  });

  test("e-mails about one ad go out in order: an operator's newer outcome supersedes an unsent older one, and waits while one is being sent", async () => {
    const admin = new AdminRepository(sql);
    // The automatic "accepted" e-mail is queued but not sent yet (its send failed, say)…
    const id = await newAd();
    await repo.decideAndClaim(id, { ...decision("accepted", id), email: { kind: "accepted", to: "p@example.com", subject: "accepted", text: "t", html: "h" } }, null);
    // …when an operator rejects the ad: the poster must never get "accepted" after "rejected".
    const r = await admin.decide(id, { state: "rejected" }, { actor: "op", reason: "no" }, () => ({ kind: "rejected", to: "p@example.com", subject: "rejected", text: "t", html: "h" }));
    expect(r!.changed).toBe(true);
    const claimed = await repo.claimEmails(id, "w1", 60_000);
    expect(claimed.map((e) => e.subject)).toEqual(["rejected"]);
    expect((await emailsOf(sql, id)).map((e) => [e.subject, e.status])).toEqual([["accepted", "superseded"], ["rejected", "sending"]]);

    // An older e-mail being sent right now holds back the newer one until it is recorded.
    const other = await newAd();
    const first = await repo.decideAndClaim(other, { ...decision("accepted", other), email: { kind: "accepted", to: "p@example.com", subject: "accepted", text: "t", html: "h" } }, { owner: "w1", ms: 60_000 });
    await admin.decide(other, { state: "rejected" }, { actor: "op", reason: "no" }, () => ({ kind: "rejected", to: "p@example.com", subject: "rejected", text: "t", html: "h" }));
    expect(await repo.claimEmails(other, "w2", 60_000)).toEqual([]);
    expect(await repo.markEmailSent(first.email!.id, "w1", "<1@mg>")).toBe(true);
    expect((await repo.claimEmails(other, "w2", 60_000)).map((e) => e.subject)).toEqual(["rejected"]);
  });

  test("a failed e-mail is re-sent by an operator (fresh budget, audited), never if a newer one exists", async () => {
    const admin = new AdminRepository(sql);
    const id = await newAd();
    await repo.decideAndClaim(id, decision("rejected", id), null);
    const [e] = await repo.claimEmails(id, "w1", 60_000);
    await repo.markEmailError(e!.id, id, "w1", { provider: "mailer", reason: "http_400", transient: false, message: "bad" }, true, 0);
    expect((await emailsOf(sql, id))[0]).toMatchObject({ status: "failed" });
    expect(await admin.resendEmail("999999999", { actor: "op", reason: "x" })).toBeNull();
    const r = await admin.resendEmail(e!.id, { actor: "op", reason: "resend" });
    expect(r?.adId).toBe(id);
    expect((await emailsOf(sql, id))[0]).toMatchObject({ status: "queued", attempts: 0 });
    expect(await admin.resendEmail(e!.id, { actor: "op", reason: "again" })).toBeNull(); // not failed any more
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).not.toContain(id); // held for the operator's own publish…
    await sql`update ads set dispatch_hold_until = null where id = ${id}`;
    expect((await repo.claimDue(1000, 10_000)).map((d) => d.id)).toContain(id); // …then the scheduler's
    expect((await eventsOf(sql, id)).some((ev) => ev.actor === "op" && ev.reason === "resend")).toBe(true);
  });

  test("a database that is down surfaces as a transient DependencyError", async () => {
    const down = new AdRepository(connectDatabase({ url: "postgres://postgres@127.0.0.1:1/none", connectTimeoutS: 1 }));
    const err = await down.get(Bun.randomUUIDv7()).catch((e) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err.dependency).toBe("database");
    expect(err.transient).toBe(true);
  });
});

describe("the main thread's database (openDatabase)", () => {
  test("public status reads have their own connection: a held main pool does not stall them", async () => {
    const id = await newAd();
    const main = await openDatabase(loadConfig({ DATABASE_URL: db.url, DATABASE_POOL_SIZE: "1" }), silentLogger);
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      // A transaction takes the main pool's only connection until `release` (as a slow dashboard query would).
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const tx = main.sql.begin(async (t) => {
        await t`select 1`;
        entered();
        await held;
      });
      await inside;
      // Were getPublic on the main pool it would wait for the transaction, which only ends
      // after it: the test would hang to its time limit instead of passing.
      const row = await main.repo.getPublic(id);
      expect(row?.state).toBe("pending");
      release();
      await tx;
    } finally {
      await main.close();
    }
  });
});

describe("withDatabaseErrors", () => {
  test("a call the database never answers fails as transient after the limit, and its late failure is ignored", async () => {
    let rejectLate!: (e: Error) => void;
    const never = new Promise<never>((_, reject) => (rejectLate = reject));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const err = (await withDatabaseErrors(() => never, 50).catch((e) => e)) as DependencyError;
      expect(err).toBeInstanceOf(DependencyError);
      expect([err.dependency, err.transient, err.reason]).toEqual(["database", true, "timeout"]);
      rejectLate(Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" }));
      await Bun.sleep(20);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("an answer in time is passed through; a failure in time keeps its classification", async () => {
    expect(await withDatabaseErrors(async () => 42, 1000)).toBe(42);
    const err = (await withDatabaseErrors(() => Promise.reject(Object.assign(new Error("x"), { code: "57P01" })), 1000).catch((e) => e)) as DependencyError;
    expect([err.transient, err.reason]).toEqual([true, "57P01"]);
  });
});

describe("operator actions (AdminRepository)", () => {
  test("an ad that changes between the read and the write is read again: the history tells the truth", async () => {
    // One connection: the statement issued from inside the callback runs before the action's own
    // write (postgres.js sends a connection's queries in order), as if the worker decided meanwhile.
    const one = connectDatabase({ url: db.url, max: 1 });
    try {
      const admin = new AdminRepository(one);
      const id = await newAd();
      const seen: string[] = [];
      const result = await admin.decide(id, { state: "rejected" }, { actor: "operator", reason: "blurry" }, (ad) => {
        seen.push(ad.state);
        if (seen.length === 1) void one`update ads set state = 'accepted', category = 'car', decided_by = 'auto' where id = ${id}`.execute().catch(() => {});
        return rejectedEmail(ad, "blurry");
      });
      expect(seen).toEqual(["pending", "accepted"]);
      expect(result?.changed).toBe(true);
      expect(result?.before.state).toBe("accepted");
      const events = await sql`select from_state, to_state, actor from ad_events where ad_id = ${id} and actor = 'operator'`;
      expect(events.map((e) => `${e.from_state}>${e.to_state}`)).toEqual(["accepted>rejected"]);
      expect((await emailsOf(sql, id)).length).toBe(1);
    } finally {
      await one.end();
    }
  });
});
