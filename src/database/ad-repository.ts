/**
 * Every statement about an ad's lifecycle: intake, the public read, processing claims and
 * leases, the decision with its e-mail, e-mail leases, and the scheduler's dispatch bookkeeping.
 *
 * Why one file over 300 lines: these statements must agree with each other on a handful of
 * columns (`dispatched_at` and `dispatch_gen`, `lease_owner`/`lease_until`, `held_by`,
 * `next_attempt_at`) — e.g. every statement that records new work bumps the generation that a late
 * "dispatched" mark is checked against. Reading them side by side is how that stays true; split
 * by caller, each file would hold half of every invariant.
 */
import type { Sql } from "./database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "./database";
import { applyTransition } from "./transition";
import type { AdRow, DecisionRecord, EmailRow, ErrorFacts, NewAd, PublicAdRow } from "../domain/ad";

export type { AdRow, AdState, DecisionRecord, EmailDraft, EmailRow, ErrorFacts, NewAd, PublicAdRow } from "../domain/ad";

/** How long intake holds a new ad's dispatch for its own publish before the scheduler may step in. */
export const DEFAULT_DISPATCH_HOLD_MS = 10_000;

/** All SQL about ads, their e-mails and their history. Every failure surfaces as a DependencyError. */
export class AdRepository {
  /** `reads` serves the public status read (the hot path); by default the same pool. */
  constructor(
    private readonly sql: Sql,
    private readonly reads: Sql = sql,
    private readonly timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {}

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return withDatabaseErrors(fn, this.timeoutMs);
  }

  private pendingMarks: DispatchMark[] = [];
  private flushing: Promise<void> | null = null;

  /** Throws if the database cannot answer. */
  ping(): Promise<void> {
    return this.run(async () => {
      await this.sql`select 1`;
    });
  }

  /**
   * Stores a new pending ad and its "submitted" history entry, atomically, in one statement. The
   * ad is not yet dispatched: intake holds its dispatch for `holdMs` (the publish it is about to
   * make) and marks it dispatched once the broker confirms; if intake dies first, the scheduler
   * publishes it when the hold runs out.
   */
  insert(ad: NewAd, holdMs = DEFAULT_DISPATCH_HOLD_MS): Promise<AdRow> {
    return this.run(async () => {
      const [row] = await this.sql<AdRow[]>`
        with a as (
          insert into ads (id, description, email, image_key, image_content_type, image_bytes, lang, dispatch_hold_until)
          values (${ad.id}, ${ad.description}, ${ad.email}, ${ad.imageKey}, ${ad.imageContentType}, ${ad.imageBytes}, ${ad.lang},
                  now() + ${holdMs} * interval '1 millisecond')
          returning *
        ), ev as (
          insert into ad_events (ad_id, from_state, to_state, actor, reason)
          select id, null, 'pending', 'poster', 'submitted' from a
        )
        select * from a`;
      return row!;
    });
  }

  /**
   * Records that the broker confirmed these dispatches. A mark whose generation is stale (new work
   * was recorded since: a failed attempt, an operator's decision) changes nothing.
   */
  markDispatched(items: ReadonlyArray<DispatchMark>): Promise<void> {
    if (!items.length) return Promise.resolve();
    return this.run(() => markDispatchedSql(this.sql, items));
  }

  /**
   * `markDispatched` for one ad, batched with the others confirmed in the same few milliseconds
   * (intake under load: one statement for many ads). Never rejects: a lost mark only means the
   * scheduler publishes the ad once more after its hold (a duplicate the handler ignores).
   */
  markDispatchedSoon(item: DispatchMark): Promise<void> {
    this.pendingMarks.push(item);
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, 2)).then(async () => {
      const batch = this.pendingMarks.splice(0);
      this.flushing = null;
      await this.markDispatched(batch).catch(() => {});
    });
    return this.flushing;
  }

  /** Gives up a dispatch claim at once (the publish failed), so the next scheduler pass retries it. */
  releaseDispatch(items: ReadonlyArray<DispatchMark>): Promise<void> {
    if (!items.length) return Promise.resolve();
    return this.run(async () => {
      await this.sql`
        update ads a set dispatch_hold_until = null
          from (select unnest(${items.map((i) => i.id)}::uuid[]) as id, unnest(${items.map((i) => i.gen)}::int[]) as gen) v
         where a.id = v.id and a.dispatch_gen = v.gen and a.dispatched_at is null`;
    });
  }

  /**
   * The scheduler's claim: ads with work that is due and not handed to the broker — a pending ad
   * whose next attempt is due and that nobody holds, or a queued e-mail that is due. Each claimed
   * ad is held for `holdMs` (so concurrent schedulers skip it) until `markDispatched`.
   */
  claimDue(limit: number, holdMs: number): Promise<DispatchMark[]> {
    return this.run(() =>
      this.sql<DispatchMark[]>`
        update ads set dispatch_hold_until = now() + ${holdMs} * interval '1 millisecond'
         where id in (
           select a.id from ads a
            where a.dispatched_at is null
              and (a.dispatch_hold_until is null or a.dispatch_hold_until < now())
              and ((a.state = 'pending' and a.next_attempt_at <= now() and (a.lease_until is null or a.lease_until < now()))
                   or exists (select 1 from emails e where e.ad_id = a.id and e.status = 'queued' and e.next_attempt_at <= now()))
            order by a.next_attempt_at
            limit ${limit}
            for update of a skip locked)
        returning id, dispatch_gen as gen`,
    );
  }

  /**
   * Housekeeping for the scheduler, in one statement: leases that ran out (their holder died or
   * lost the database) are released and their work becomes undispatched again; e-mails leased by
   * a dead sender are queued again; ads with nothing left to do are marked dispatched so the
   * scheduler's scan stays small. Returns how many leases were taken back.
   */
  reapExpired(): Promise<number> {
    return this.run(async () => {
      const [row] = await this.sql<{ n: number }[]>`
        with ea as (
          update emails set status = 'queued', lease_owner = null, lease_until = null
           where status = 'sending' and lease_until < now()
          returning ad_id
        ), aa as (
          update ads set lease_owner = null, lease_until = null,
                 dispatched_at = case when state = 'pending' then null else dispatched_at end,
                 dispatch_hold_until = case when state = 'pending' then null else dispatch_hold_until end,
                 dispatch_gen = dispatch_gen + (state = 'pending')::int
           where lease_until < now()
          returning id
        ), undispatch as (
          update ads set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
           where id in (select ad_id from ea) and id not in (select id from aa)
          returning id
        ), idle as (
          update ads a set dispatched_at = now()
           where a.dispatched_at is null and a.state <> 'pending'
             and (a.dispatch_hold_until is null or a.dispatch_hold_until < now())
             and not exists (select 1 from emails e where e.ad_id = a.id and e.status in ('queued', 'sending'))
             and a.id not in (select ad_id from ea) and a.id not in (select id from aa)
          returning a.id
        )
        select ((select count(*) from ea) + (select count(*) from aa))::int as n`;
      return row?.n ?? 0;
    });
  }

  /** Keeps alive the leases a live handler of this owner holds (the heartbeat). */
  renewLeases(owner: string, leaseMs: number, held: { ads: Iterable<string>; emails: Iterable<string> }): Promise<void> {
    const ads = [...held.ads];
    const emails = [...held.emails];
    if (!ads.length && !emails.length) return Promise.resolve();
    return this.run(async () => {
      await this.sql`
        with a as (
          update ads set lease_until = now() + ${leaseMs} * interval '1 millisecond'
           where id = any(${ads}::uuid[]) and lease_owner = ${owner} and lease_until is not null
          returning id
        )
        update emails set lease_until = now() + ${leaseMs} * interval '1 millisecond'
         where id = any(${emails}::bigint[]) and status = 'sending' and lease_owner = ${owner}`;
    });
  }

  /** Owners holding a lease now (to find the ones whose process is gone). */
  leaseOwners(): Promise<string[]> {
    return this.run(async () => {
      const rows = await this.sql<{ o: string }[]>`
        select lease_owner as o from ads where lease_until is not null and lease_owner is not null
        union select lease_owner from emails where status = 'sending' and lease_owner is not null`;
      return rows.map((r) => r.o);
    });
  }

  /**
   * Releases every lease held by these owners (processes known to be gone, or this one stopping):
   * their work becomes due for dispatch at once. With `unstart`, the processing start the owner
   * counted is taken back (a clean stop is not a crash).
   */
  releaseLeases(owners: string[], unstart = false): Promise<number> {
    if (!owners.length) return Promise.resolve(0);
    return this.run(async () => {
      const [row] = await this.sql<{ n: number }[]>`
        with ea as (
          update emails set status = 'queued', lease_owner = null, lease_until = null
           where status = 'sending' and lease_owner = any(${owners}::text[])
          returning ad_id
        ), aa as (
          update ads set lease_owner = null, lease_until = null,
                 processing_starts = case when ${unstart} then greatest(processing_starts - 1, 0) else processing_starts end,
                 dispatched_at = case when state = 'pending' then null else dispatched_at end,
                 dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
           where lease_until is not null and lease_owner = any(${owners}::text[])
          returning id
        ), undispatch as (
          update ads set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
           where id in (select ad_id from ea) and id not in (select id from aa)
          returning id
        )
        select ((select count(*) from ea) + (select count(*) from aa))::int as n`;
      return row?.n ?? 0;
    });
  }

  /**
   * For a queue that lives in memory (the embedded default): after a start nothing is in flight,
   * so every ad with outstanding work is undispatched and every lease released.
   */
  resetDispatch(): Promise<number> {
    return this.run(async () => {
      const [row] = await this.sql<{ n: number }[]>`
        with ea as (
          update emails set status = 'queued', lease_owner = null, lease_until = null where status = 'sending' returning ad_id
        ), aa as (
          update ads a set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1,
                 lease_owner = null, lease_until = null
           where a.state = 'pending' or a.lease_until is not null or a.dispatched_at is null
              or exists (select 1 from emails e where e.ad_id = a.id and e.status in ('queued', 'sending'))
          returning id
        )
        select (select count(*) from aa)::int as n`;
      return row?.n ?? 0;
    });
  }

  /**
   * Only what the public may see of an ad (no e-mail, no tags): the status route's one query.
   * Narrower than `get`, so the poster's address never even reaches the public code path.
   */
  getPublic(id: string): Promise<PublicAdRow | null> {
    return this.run(async () => {
      const [row] = await this.reads<PublicAdRow[]>`
        select id, state, description, category, image_key, image_content_type, created_at, decided_at from ads where id = ${id}`;
      return row ?? null;
    });
  }

  /** The ad with this id, or null. */
  get(id: string): Promise<AdRow | null> {
    return this.run(async () => {
      const [row] = await this.sql<AdRow[]>`select * from ads where id = ${id}`;
      return row ?? null;
    });
  }

  /**
   * Takes a pending ad for processing: counts the start (before any work, so a job that kills the
   * process is still counted) and leases the ad to `owner`. Null when the ad is not pending, its
   * next attempt is not due yet (an early duplicate), or another owner's lease is live. The caller
   * makes sure no handler of its own is working on the ad (its own lease is then a leftover).
   */
  claimProcessing(id: string, owner: string, leaseMs: number): Promise<AdRow | null> {
    return this.run(async () => {
      const [row] = await this.sql<AdRow[]>`
        update ads set processing_starts = processing_starts + 1, lease_owner = ${owner},
               lease_until = now() + ${leaseMs} * interval '1 millisecond'
         where id = ${id} and state = 'pending' and next_attempt_at <= now() + interval '1 second'
           and (lease_until is null or lease_until < now() or lease_owner = ${owner})
        returning *`;
      return row ?? null;
    });
  }

  /**
   * Decides a pending ad (the shared decision statement, ./transition.ts). With a lease the e-mail
   * is created already leased to the caller, who sends it next; with null it is queued. `won` is
   * false (and nothing changes) when the ad was no longer pending — a duplicate delivery or an
   * operator got there first.
   */
  decideAndClaim(id: string, d: DecisionRecord, lease: { owner: string; ms: number } | null): Promise<{ won: boolean; email: EmailRow | null }> {
    return this.run(async () => {
      const r = await applyTransition(this.sql, {
        id,
        from: { state: "pending" },
        to: { state: d.state, category: d.category, tags: d.tags, copyOf: d.copyOf, actor: d.actor, reason: d.reason },
        email: d.email,
        dispatch: lease ? { lease } : "scheduler",
      });
      return r ? { won: true, email: r.email } : { won: false, email: null };
    });
  }

  /**
   * Counts a failed attempt on a pending ad, records the error and when it is due again, and
   * releases the lease: the attempt is finished, and the scheduler dispatches the next one when due.
   */
  recordAttemptFailure(id: string, error: ErrorFacts, retryInMs: number): Promise<number> {
    return this.run(async () => {
      const [row] = await this.sql<{ attempts: number }[]>`
        with upd as (
          update ads set attempts = attempts + 1, last_error = ${error.message.slice(0, 2000)},
                 next_attempt_at = now() + ${retryInMs} * interval '1 millisecond', updated_at = now(),
                 lease_owner = null, lease_until = null, processing_starts = 0, held_by = null,
                 dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
           where id = ${id} and state = 'pending'
          returning attempts
        ), err as (${errorInsert(this.sql, id, error)})
        select attempts from upd`;
      return row?.attempts ?? 0;
    });
  }

  /** Moves a pending ad to `failed` (retry budget spent or a permanent error), with a history entry. */
  markFailed(id: string, error: ErrorFacts): Promise<boolean> {
    return this.run(async () => {
      const rows = await this.sql`
        with upd as (
          update ads set state = 'failed', attempts = attempts + 1, last_error = ${error.message.slice(0, 2000)}, updated_at = now(),
                 lease_owner = null, lease_until = null
           where id = ${id} and state = 'pending'
          returning id
        ), err as (${errorInsert(this.sql, id, error)}),
        ev as (
          insert into ad_events (ad_id, from_state, to_state, actor, reason)
          select id, 'pending', 'failed', 'worker', ${error.message.slice(0, 500)} from upd
        )
        select id from upd`;
      return rows.length > 0;
    });
  }

  /**
   * Leases this ad's unsent e-mails that are due to `owner`, so concurrent deliveries of the same
   * message never send the same e-mail twice. An e-mail waits while an older one about the same ad
   * is being sent (the poster reads them in order).
   */
  claimEmails(adId: string, owner: string, leaseMs: number): Promise<EmailRow[]> {
    return this.run(() =>
      this.sql<EmailRow[]>`
        update emails set status = 'sending', attempts = attempts + 1, lease_owner = ${owner},
               lease_until = now() + ${leaseMs} * interval '1 millisecond'
         where id in (select e.id from emails e
                       where e.ad_id = ${adId} and e.status = 'queued' and e.next_attempt_at <= now() + interval '1 second'
                         and not exists (select 1 from emails o where o.ad_id = e.ad_id and o.id < e.id and o.status = 'sending')
                       order by e.id for update skip locked)
        returning *`,
    );
  }

  /** Records the provider's acceptance of an e-mail this owner was sending. False if the lease was lost. */
  markEmailSent(emailId: string, owner: string, providerId: string): Promise<boolean> {
    return this.run(async () => {
      const rows = await this.sql`update emails set status = 'sent', provider_id = ${providerId}, sent_at = now(),
                            lease_until = null, lease_owner = null, last_error = null, held_by = null
                      where id = ${emailId} and status = 'sending' and lease_owner = ${owner}
                      returning id`;
      return rows.length > 0;
    });
  }

  /**
   * Releases an e-mail after a failed send: queued again, due after `retryInMs` (its ad becomes
   * undispatched, so the scheduler hands it to the broker when it is due), or failed for good.
   */
  markEmailError(emailId: string, adId: string, owner: string, error: ErrorFacts, final: boolean, retryInMs: number): Promise<void> {
    return this.run(async () => {
      await this.sql`
        with upd as (
          update emails set status = ${final ? "failed" : "queued"}, lease_until = null, lease_owner = null, held_by = null,
                 next_attempt_at = now() + ${retryInMs} * interval '1 millisecond', last_error = ${error.message.slice(0, 2000)}
           where id = ${emailId} and status = 'sending' and lease_owner = ${owner}
          returning id
        ), ad as (
          update ads set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
           where id = ${adId} and ${!final} and exists (select 1 from upd)
        ), err as (${errorInsert(this.sql, adId, error)})
        select count(*) from upd`;
    });
  }

  /**
   * Holds a pending ad this owner claimed, because its provider's circuit is open: due again after
   * `retryInMs` at the latest (the breaker releases it sooner when the provider is back), its
   * processing start taken back. With `error` the failed call counts as an attempt (it started
   * while the circuit was closed); without, nothing is counted (refused, or a probe).
   */
  holdAd(id: string, owner: string, provider: string, retryInMs: number, error?: ErrorFacts): Promise<void> {
    return this.run(async () => {
      await this.sql`
        with upd as (
          update ads set held_by = ${provider}, next_attempt_at = now() + ${retryInMs} * interval '1 millisecond',
                 attempts = attempts + ${error ? 1 : 0}, last_error = coalesce(${error?.message.slice(0, 2000) ?? null}, last_error),
                 lease_owner = null, lease_until = null, processing_starts = greatest(processing_starts - 1, 0),
                 dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1, updated_at = now()
           where id = ${id} and state = 'pending' and lease_owner = ${owner}
          returning id
        )${error ? this.sql`, err as (${errorInsert(this.sql, id, error)})` : this.sql``}
        select count(*) from upd`;
    });
  }

  /**
   * Holds an e-mail this owner claimed, because the mailer's circuit is open; with `uncount` the
   * attempt its claim counted is taken back (the send was refused, or was a probe).
   */
  holdEmail(emailId: string, adId: string, owner: string, retryInMs: number, uncount: boolean, error?: ErrorFacts): Promise<void> {
    return this.run(async () => {
      await this.sql`
        with upd as (
          update emails set status = 'queued', held_by = 'mailer', attempts = case when ${uncount} then greatest(attempts - 1, 0) else attempts end,
                 last_error = coalesce(${error?.message.slice(0, 2000) ?? null}, last_error),
                 next_attempt_at = now() + ${retryInMs} * interval '1 millisecond', lease_owner = null, lease_until = null
           where id = ${emailId} and status = 'sending' and lease_owner = ${owner}
          returning id
        )
        update ads set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
         where id = ${adId} and exists (select 1 from upd)`;
    });
  }

  /**
   * Work held for a provider becomes due now (the scheduler dispatches it): all of it when the
   * provider is back, or `limit` items to probe it with.
   */
  releaseHeld(provider: string, limit = 1_000_000): Promise<number> {
    return this.run(async () => {
      const [row] = await this.sql<{ n: number }[]>`
        with a as (
          update ads set held_by = null, next_attempt_at = now()
           where id in (select id from ads where held_by = ${provider} and state = 'pending' order by next_attempt_at limit ${limit} for update skip locked)
          returning id
        ), e as (
          update emails set held_by = null, next_attempt_at = now()
           where id in (select id from emails where held_by = ${provider} and status = 'queued' order by next_attempt_at
                         limit greatest(${limit} - (select count(*) from a), 0) for update skip locked)
          returning id
        )
        select ((select count(*) from a) + (select count(*) from e))::int as n`;
      return row?.n ?? 0;
    });
  }

  /** Which of these ids have a row (for the orphan-image collector). */
  existingIds(ids: string[]): Promise<Set<string>> {
    return this.run(async () => {
      const rows = await this.sql<{ id: string }[]>`select id::text as id from ads where id = any(${ids}::uuid[])`;
      return new Set(rows.map((r) => r.id));
    });
  }

  /**
   * The broker lost its queue (deleted, or a node lost with it): every message it held is gone, so
   * all outstanding work that was dispatched becomes undispatched, for the scheduler to publish
   * again (duplicates of messages that did survive are harmless). Returns how many ads.
   */
  undispatchAll(): Promise<number> {
    return this.run(async () => {
      const rows = await this.sql`
        update ads set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
         where id in (select id from ads where state = 'pending' and dispatched_at is not null
                       union select ad_id from emails where status = 'queued')
           and dispatched_at is not null
        returning id`;
      return rows.length;
    });
  }

  /**
   * The slow path, for work handed to the broker and then lost there (a queue deleted, a node
   * lost with its messages): pending ads dispatched more than `overdueMs` ago and still due, and
   * ads whose queued e-mail has been due for as long, become undispatched again, so the scheduler
   * publishes them. Nothing is sent or counted here. Returns the ids.
   */
  undispatchOverdue(overdueMs: number, limit: number): Promise<string[]> {
    return this.run(async () => {
      const rows = await this.sql<{ id: string }[]>`
        update ads set dispatched_at = null, dispatch_hold_until = null, dispatch_gen = dispatch_gen + 1
         where id in (
           select a.id from ads a
            where a.dispatched_at < now() - ${overdueMs} * interval '1 millisecond'
              and ((a.state = 'pending' and a.next_attempt_at < now() - ${overdueMs} * interval '1 millisecond'
                    and (a.lease_until is null or a.lease_until < now()))
                   or exists (select 1 from emails e where e.ad_id = a.id and e.status = 'queued'
                               and e.next_attempt_at < now() - ${overdueMs} * interval '1 millisecond'))
            limit ${limit} for update of a skip locked)
        returning id`;
      return rows.map((r) => r.id);
    });
  }
}

/** A confirmed dispatch: the ad and the generation of the work that was published. */
export interface DispatchMark {
  id: string;
  gen: number;
}

/** Marks confirmed dispatches (shared with the operators' repository). */
export async function markDispatchedSql(sql: Sql, items: ReadonlyArray<DispatchMark>): Promise<void> {
  await sql`
    update ads a set dispatched_at = now(), dispatch_hold_until = null
      from (select unnest(${items.map((i) => i.id)}::uuid[]) as id, unnest(${items.map((i) => i.gen)}::int[]) as gen) v
     where a.id = v.id and a.dispatch_gen = v.gen and a.dispatched_at is null`;
}

/** The insert of a processing error, as a fragment for a data-modifying CTE. */
function errorInsert(sql: Sql, adId: string | null, e: ErrorFacts) {
  return sql`insert into processing_errors (ad_id, provider, reason, transient, message)
             values (${adId}, ${e.provider}, ${e.reason.slice(0, 100)}, ${e.transient}, ${e.message.slice(0, 2000)})`;
}
