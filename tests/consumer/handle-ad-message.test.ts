/**
 * The handler against PostgreSQL with stand-in providers, for the edges the end-to-end tests
 * cannot aim at: a database error right after the provider accepted an e-mail, a job that keeps
 * killing its process, and work held while a provider's circuit is open.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { handleAdMessage, HeldLeases, type HandlerDeps } from "../../src/consumer/handle-ad-message";
import { AdRepository } from "../../src/database/ad-repository";
import { CircuitBreaker } from "../../src/platform/circuit-breaker";
import { connectDatabase, migrate, type Sql } from "../../src/database/database";
import { DependencyError } from "../../src/domain/errors";
import { silentLogger } from "../../src/platform/logger";
import { serviceMetrics } from "../../src/platform/metrics";
import type { ImageStorage } from "../../src/storage/storage";
import { createTestDatabase } from "../support/stack";
import { emailsOf } from "../support/rows";
import { photo } from "../support/fixtures";
import { PosterRepository } from "../../src/database/poster-repository";
import { PosterKeys } from "../../src/domain/poster-keys";
import { decodeImage } from "../../src/image/decode";
import { thumbnailJpeg } from "../../src/image/thumbnail";

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

async function newAd(description = "A red car") {
  const id = Bun.randomUUIDv7();
  await repo.insert({ id, description, email: "p@example.com", imageKey: `ads/${id}.jpg`, imageContentType: "image/jpeg", imageBytes: 10, lang: "en" });
  return id;
}

function deps(over: Partial<HandlerDeps> = {}): HandlerDeps & { sends: string[]; tagCalls: number } {
  const sends: string[] = [];
  const d = {
    sends,
    tagCalls: 0,
    repo,
    storage: { get: async () => ({ bytes: new Uint8Array([1, 2, 3]), contentType: "image/jpeg" }) } as unknown as ImageStorage,
    tagger: {
      tag: async () => {
        d.tagCalls++;
        return [{ name: "car", confidence: 90 }, { name: "vehicle", confidence: 80 }];
      },
    },
    mailer: {
      send: async (m: { adId?: string }) => {
        sends.push(m.adId ?? "");
        return { providerId: `<${sends.length}@mg>` };
      },
    },
    log: silentLogger,
    rule: { vehicleTag: "vehicle", minConfidence: 50 },
    publicBaseUrl: "http://ads.example.test",
    retryDelaysMs: [5000, 30_000],
    owner: `t:${Math.random()}`,
    leaseMs: 30_000,
    maxProcessingStarts: 3,
    held: new HeldLeases(),
    breakers: { storage: new CircuitBreaker("storage"), tagger: new CircuitBreaker("tagger"), mailer: new CircuitBreaker("mailer") },
    metrics: serviceMetrics(),
    ...over,
  };
  return d as never;
}

describe("handleAdMessage", () => {
  test("a database error right after the provider accepted the e-mail: recorded on retry, never sent twice", async () => {
    const id = await newAd();
    let failures = 1;
    const flaky = new Proxy(repo, {
      get(target, prop, receiver) {
        if (prop === "markEmailSent")
          return async (...args: Parameters<AdRepository["markEmailSent"]>) => {
            if (failures-- > 0) throw new DependencyError("database", "connection reset", true);
            return target.markEmailSent(...args);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const d = deps({ repo: flaky });
    expect(await handleAdMessage(d, { adId: id, retries: 0 })).toEqual({ kind: "done" });
    expect(d.sends).toEqual([id]);
    expect((await emailsOf(sql, id))[0]).toMatchObject({ status: "sent", provider_id: "<1@mg>" });
    // Redeliveries change nothing.
    await handleAdMessage(d, { adId: id, retries: 0 });
    await handleAdMessage(deps(), { adId: id, retries: 0 });
    expect(d.sends).toEqual([id]);
  });

  test("a job whose processing started 3 times without finishing fails as crashed, without a fourth try", async () => {
    const id = await newAd();
    // Three starts by processes that died (counted, never finished; their leases ran out).
    await sql`update ads set processing_starts = 3 where id = ${id}`;
    const d = deps();
    expect(await handleAdMessage(d, { adId: id, retries: 0 })).toMatchObject({ kind: "dead", reason: "crashed" });
    expect(d.tagCalls).toBe(0);
    const ad = await repo.get(id);
    expect(ad).toMatchObject({ state: "failed" });
    expect(ad!.last_error).toContain("crashed");
  });

  test("an early duplicate (next attempt not due) is dropped without calling anything", async () => {
    const id = await newAd();
    await sql`update ads set next_attempt_at = now() + interval '1 minute' where id = ${id}`;
    const d = deps();
    expect(await handleAdMessage(d, { adId: id, retries: 0 })).toEqual({ kind: "done" });
    expect(d.tagCalls).toBe(0);
    expect(await repo.get(id)).toMatchObject({ state: "pending", processing_starts: 0, attempts: 0 });
  });

  test("tagger circuit open: the ad is held with no attempt counted, and released when the tagger answers", async () => {
    const id = await newAd();
    const tagger = new CircuitBreaker("tagger", { threshold: 1, minProbeMs: 60_000, maxProbeMs: 60_000 });
    tagger.failure(true); // open
    const d = deps({ breakers: { storage: new CircuitBreaker("storage"), tagger, mailer: new CircuitBreaker("mailer") } });
    expect(await handleAdMessage(d, { adId: id, retries: 0 })).toEqual({ kind: "done" });
    expect(d.tagCalls).toBe(0);
    expect(await repo.get(id)).toMatchObject({ state: "pending", attempts: 0, processing_starts: 0, lease_owner: null, dispatched_at: null });
    const [row] = await sql<{ held_by: string }[]>`select held_by from ads where id = ${id}`;
    expect(row!.held_by).toBe("tagger");
    expect(await repo.releaseHeld("tagger")).toBeGreaterThanOrEqual(1);
    expect((await repo.claimDue(1000, 10_000)).map((x) => x.id)).toContain(id);
  });
});

describe("re-posted photos and thumbnails", () => {
  // Real photos through real decoding: the fixture and a smaller, re-encoded copy of it.
  const keys = new PosterKeys("r".repeat(40));

  async function photoDeps(bytesOf: (key: string) => Uint8Array) {
    const objects = new Map<string, Uint8Array>();
    const storage = {
      get: async (key: string) => ({ bytes: objects.get(key) ?? bytesOf(key), contentType: "image/jpeg" }),
      put: async (key: string, bytes: Uint8Array) => void objects.set(key, bytes),
    } as unknown as ImageStorage;
    const posters = new PosterRepository(sql);
    return { objects, d: deps({ storage, manageUrl: (id) => keys.manageUrl("http://ads.example.test", id), photos: { posters, keys, maxDistance: 12, windowDays: 90 } }) };
  }
  async function adBy(email: string) {
    const id = Bun.randomUUIDv7();
    await repo.insert({ id, description: "A bus", email, imageKey: `ads/${id}.jpg`, imageContentType: "image/jpeg", imageBytes: 10, lang: "en" });
    return id;
  }

  test("another poster's copy (smaller, re-encoded) waits for an operator as a possible copy; the original is accepted with a manage link", async () => {
    const bus = photo("vehicle-bus.jpg");
    const copy = thumbnailJpeg((await decodeImage(bus))!, 400, 50);
    const first = await adBy(`first-${Math.random()}@example.com`);
    const second = await adBy(`second-${Math.random()}@example.com`);
    const { d } = await photoDeps((key) => (key.includes(second) ? copy : bus));
    expect(await handleAdMessage(d, { adId: first, retries: 0 })).toEqual({ kind: "done" });
    expect(await handleAdMessage(d, { adId: second, retries: 0 })).toEqual({ kind: "done" });
    const [a] = await sql`select state, copy_of from ads where id = ${first}`;
    expect(a).toMatchObject({ state: "accepted", copy_of: null });
    const [b] = await sql`select state, copy_of, decision_reason from ads where id = ${second}`;
    expect(b).toMatchObject({ state: "review", copy_of: first });
    expect(b!.decision_reason).toContain(`possible copy of ${first}`);
    const [mail] = await emailsOf(sql, first);
    expect(mail!.body_text).toContain(`http://ads.example.test/manage/${keys.manageToken(first)}`);
    expect(await emailsOf(sql, second)).toEqual([]); // nothing sent while an operator looks
  });

  test("the same poster posting again a photo of theirs that was rejected: decided as usual, and noted", async () => {
    const email = `again-${Math.random()}@example.com`;
    const cat = photo("none-cat.png");
    const before = await adBy(email);
    const again = await adBy(email);
    const { d } = await photoDeps(() => cat);
    const rejecting = { ...d, tagger: { tag: async () => [{ name: "cat", confidence: 90 }] } };
    await handleAdMessage(rejecting, { adId: before, retries: 0 });
    await handleAdMessage(rejecting, { adId: again, retries: 0 });
    const [row] = await sql`select state, copy_of, decision_reason from ads where id = ${again}`;
    expect(row).toMatchObject({ state: "rejected", copy_of: before });
    expect(row!.decision_reason).toContain(`re-post of the poster's own ad ${before}`);
  });
});
