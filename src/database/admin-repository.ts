/**
 * The operators' reads and actions: the queue (counts, keyset pages, the Persian-folded search),
 * an ad's whole record, the decision through the shared statement (./transition.ts), reprocess,
 * e-mail re-sends, and the overview's and outbox's figures.
 * (Just over 300 lines: the actions and the reads they show share one row type and one guard on
 * the row version; the operators' accounts are in ./operator-repository.ts.)
 */
import { markDispatchedSql, type AdRow, type AdState, type DispatchMark, type EmailDraft, type EmailRow } from "./ad-repository";
import type { Sql } from "./database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "./database";
import { applyTransition } from "./transition";
import { DependencyError } from "../domain/errors";
import { isAdId } from "../domain/validation";
import { normalizeForSearch } from "../i18n/text";
import type { Tag } from "../tagger/tagger";

/** How often an operator action re-reads an ad that changed under it before giving up (503). */
const MAX_LOOKS = 5;
/** How long the scheduler leaves an operator action's work to the action's own publish. */
const OPERATOR_DISPATCH_HOLD_MS = 10_000;
const busy = () => new DependencyError("database", "the ad kept changing while the action was applied; try again", true, "conflict");

export const ADMIN_TABS = ["pending", "review", "accepted", "rejected", "failed"] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

export interface ListQuery {
  state: AdminTab;
  /**
   * Free text: an exact id, part of an e-mail address, or part of the description. The
   * description is compared folded as `normalizeForSearch` folds the query (Arabic ي ى ك as
   * Persian ی ک, Persian and Arabic-Indic digits as ASCII, no ZWNJ or tatweel, lower case).
   */
  q?: string;
  /** Keyset cursor: the (created_at, id) of the last row of the previous page. */
  before?: { createdAt: Date; id: string };
  limit: number;
}

export interface AdListRow {
  id: string;
  description: string;
  email: string;
  state: AdState;
  category: string | null;
  tags: Tag[] | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  decided_at: Date | null;
  /** Who decided: `auto`, or an operator's name. */
  decided_by: string | null;
  /** Waiting for an operator because its poster appealed the rejection. */
  appealed: boolean;
  /** The earlier ad whose photo this one repeats, if any. */
  copy_of: string | null;
}

export interface AdEvent {
  from_state: string | null;
  to_state: string;
  actor: string;
  reason: string | null;
  created_at: Date;
}

export interface ProcessingErrorRow {
  provider: string;
  reason: string;
  transient: boolean;
  message: string;
  created_at: Date;
}

export interface OutboxRow extends EmailRow {
  ad_description: string;
}

export interface OperatorAction {
  actor: string;
  reason: string;
}

export interface Overview {
  perDay: Array<{ day: string; accepted: number; rejected: number; submitted: number }>;
  latency: { p50: number | null; p95: number | null; n: number };
  errors: Array<{ hour: string; provider: string; n: number }>;
  counts: Record<AdminTab, number>;
}


/** The operators' queries and actions. Every action is one statement (so one transaction) with its audit entry. */
export class AdminRepository {
  constructor(
    private readonly sql: Sql,
    private readonly timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {}

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return withDatabaseErrors(fn, this.timeoutMs);
  }

  /** Ads per state (every tab's count in one query). */
  counts(): Promise<Record<AdminTab, number>> {
    return this.run(async () => {
      const rows = await this.sql<{ state: AdminTab; n: number }[]>`select state, count(*)::int as n from ads group by state`;
      const out = Object.fromEntries(ADMIN_TABS.map((t) => [t, 0])) as Record<AdminTab, number>;
      for (const r of rows) out[r.state] = r.n;
      return out;
    });
  }

  /** One page of a tab, newest first, keyset-paginated; `limit + 1` rows are read to know if there is more. */
  list(query: ListQuery): Promise<{ rows: AdListRow[]; more: boolean }> {
    return this.run(async () => {
      const sql = this.sql;
      const q = query.q?.trim();
      const filter = !q
        ? sql``
        : isAdId(q)
          ? sql`and id = ${q}`
          : sql`and (email ilike ${"%" + escapeLike(q) + "%"}
                     or translate(lower(description), ${FOLD_FROM}, ${FOLD_TO}) like ${"%" + escapeLike(normalizeForSearch(q)) + "%"})`;
      const after = query.before ? sql`and (created_at, id) < (${query.before.createdAt}, ${query.before.id})` : sql``;
      const rows = await sql<AdListRow[]>`
        select id, left(description, 200) as description, email, state, category, tags, attempts, last_error, created_at, decided_at, decided_by,
               appealed_at is not null and state = 'review' as appealed, copy_of
          from ads
         where state = ${query.state} ${filter} ${after}
         order by created_at desc, id desc
         limit ${query.limit + 1}`;
      return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
    });
  }

  /** Where an ad's image is stored, whatever its state (operators see every image). */
  imageOf(id: string): Promise<{ image_key: string; image_content_type: string } | null> {
    return this.run(async () => {
      if (!isAdId(id)) return null;
      const [row] = await this.sql<{ image_key: string; image_content_type: string }[]>`select image_key, image_content_type from ads where id = ${id}`;
      return row ?? null;
    });
  }

  /** Everything about one ad: the row, its history, its e-mails and its processing errors. */
  detail(id: string): Promise<{ ad: AdRow; events: AdEvent[]; emails: EmailRow[]; errors: ProcessingErrorRow[] } | null> {
    return this.run(async () => {
      if (!isAdId(id)) return null;
      const [ad] = await this.sql<AdRow[]>`select * from ads where id = ${id}`;
      if (!ad) return null;
      const [events, emails, errors] = await Promise.all([
        this.sql<AdEvent[]>`select from_state, to_state, actor, reason, created_at from ad_events where ad_id = ${id} order by id`,
        this.sql<EmailRow[]>`select * from emails where ad_id = ${id} order by id`,
        this.sql<ProcessingErrorRow[]>`select provider, reason, transient, message, created_at from processing_errors where ad_id = ${id} order by id desc limit 50`,
      ]);
      return { ad, events, emails, errors };
    });
  }

  /**
   * An operator's decision: the shared decision statement (./transition.ts) guarded by the row
   * version it was based on (`xmin`): if the worker or another operator changed the ad in between,
   * nothing is written and the ad is read again. The worker only ever decides a pending ad, so it
   * never overwrites this. Queues the e-mail when the outcome the poster knows about changes. Returns the previous row, or null if
   * unknown. (No multi-statement transaction: see `withDatabaseErrors`.)
   */
  decide(
    id: string,
    to: { state: "accepted"; category: string } | { state: "rejected" },
    action: OperatorAction,
    email: (ad: AdRow) => EmailDraft,
  ): Promise<{ before: AdRow; changed: boolean; resent?: boolean; gen?: number } | null> {
    return this.run(async () => {
      const category = to.state === "accepted" ? to.category : null;
      for (let look = 0; look < MAX_LOOKS; look++) {
        const [ad] = await this.sql<Array<AdRow & { version: string }>>`select *, xmin::text as version from ads where id = ${id}`;
        if (!ad) return null;
        const { version, ...before } = ad;
        if (before.state === to.state && before.category === category) {
          // Same decision again: if the poster was never told (their e-mail failed), tell them now.
          const gen = await this.requeueLatestFailedEmail(id, action);
          return { before, changed: false, resent: gen !== null, gen: gen ?? undefined };
        }
        // The ad's work becomes undispatched until the operator's publish is confirmed (or the
        // scheduler publishes it once the hold runs out).
        const won = await applyTransition(this.sql, {
          id,
          from: { state: before.state, version },
          to: { state: to.state, category, actor: action.actor, reason: action.reason },
          email: email(before),
          dispatch: { holdMs: OPERATOR_DISPATCH_HOLD_MS },
        });
        if (won) return { before, changed: true, gen: won.gen };
      }
      throw busy();
    });
  }

  /** Sends an ad back for tagging: pending again with a fresh retry budget. Returns false if unknown. */
  reprocess(id: string, action: OperatorAction): Promise<number | null> {
    return this.run(async () => {
      for (let look = 0; look < MAX_LOOKS; look++) {
        const [ad] = await this.sql<{ state: string; version: string }[]>`select state, xmin::text as version from ads where id = ${id}`;
        if (!ad) return null;
        const won = await this.sql<{ gen: number }[]>`
          with upd as (
            update ads set state = 'pending', category = null, decided_by = null, decided_at = null, decision_reason = null,
                   attempts = 0, last_error = null, next_attempt_at = now(), updated_at = now(), processing_starts = 0,
                   dispatched_at = null, dispatch_hold_until = now() + (${OPERATOR_DISPATCH_HOLD_MS} * interval '1 millisecond'), dispatch_gen = dispatch_gen + 1
             where id = ${id} and xmin::text = ${ad.version}
            returning id, dispatch_gen
          ), ev as (
            insert into ad_events (ad_id, from_state, to_state, actor, reason)
            select id, ${ad.state}, 'pending', ${action.actor}, ${action.reason} from upd
          )
          select dispatch_gen as gen from upd`;
        if (won.length) return won[0]!.gen;
      }
      throw busy();
    });
  }

  /**
   * Queues a failed e-mail again with a fresh attempt budget (the dashboard's "Resend"), marks its
   * ad as having work to hand to the broker, and records who asked. Null when the e-mail is unknown,
   * not failed, or no longer the latest about its ad (a stale outcome is never re-sent).
   */
  resendEmail(emailId: string, action: OperatorAction): Promise<{ adId: string; gen: number } | null> {
    return this.run(async () => {
      if (!/^[0-9]{1,18}$/.test(emailId)) return null;
      return this.requeueFailedEmail(this.sql`e.id = ${emailId}`, action);
    });
  }

  /** The latest e-mail of an ad, if it failed: queued again (re-approving re-sends). Returns the new dispatch generation. */
  private async requeueLatestFailedEmail(adId: string, action: OperatorAction): Promise<number | null> {
    const r = await this.requeueFailedEmail(this.sql`e.id = (select max(id) from emails where ad_id = ${adId})`, { ...action, reason: "failed e-mail re-sent" });
    return r?.gen ?? null;
  }

  private async requeueFailedEmail(which: ReturnType<Sql>, action: OperatorAction): Promise<{ adId: string; gen: number } | null> {
    const rows = await this.sql<{ ad_id: string; gen: number }[]>`
      with em as (
        update emails e set status = 'queued', attempts = 0, next_attempt_at = now(), lease_until = null, lease_owner = null, last_error = null
         where ${which} and e.status = 'failed'
           and not exists (select 1 from emails n where n.ad_id = e.ad_id and n.id > e.id and n.status <> 'superseded')
        returning ad_id
      ), ad as (
        update ads set dispatched_at = null, dispatch_hold_until = now() + (${OPERATOR_DISPATCH_HOLD_MS} * interval '1 millisecond'), dispatch_gen = dispatch_gen + 1
         where id in (select ad_id from em)
        returning id, state, dispatch_gen
      ), ev as (
        insert into ad_events (ad_id, from_state, to_state, actor, reason)
        select id, state, state, ${action.actor}, ${action.reason} from ad
      )
      select id as ad_id, dispatch_gen as gen from ad`;
    const r = rows[0];
    return r ? { adId: r.ad_id, gen: r.gen } : null;
  }

  /** Records confirmed dispatches (after an operator action's publish). */
  markDispatched(items: ReadonlyArray<DispatchMark>): Promise<void> {
    return this.run(() => markDispatchedSql(this.sql, items));
  }

  /** The overview's figures: outcomes per day, submit→decision latency, provider errors per hour. */
  overview(days = 14): Promise<Overview> {
    return this.run(async () => {
      const [perDay, latency, errors, counts] = await Promise.all([
        this.sql<Array<{ day: string; accepted: number; rejected: number; submitted: number }>>`
          with days as (select generate_series(date_trunc('day', now()) - (${days - 1} * interval '1 day'), date_trunc('day', now()), interval '1 day') as day)
          select to_char(d.day, 'YYYY-MM-DD') as day,
                 (select count(*)::int from ads where state = 'accepted' and decided_at >= d.day and decided_at < d.day + interval '1 day') as accepted,
                 (select count(*)::int from ads where state = 'rejected' and decided_at >= d.day and decided_at < d.day + interval '1 day') as rejected,
                 (select count(*)::int from ads where created_at >= d.day and created_at < d.day + interval '1 day') as submitted
            from days d order by d.day`,
        this.sql<Array<{ p50: number | null; p95: number | null; n: number }>>`
          select percentile_cont(0.5) within group (order by extract(epoch from decided_at - created_at))::float8 as p50,
                 percentile_cont(0.95) within group (order by extract(epoch from decided_at - created_at))::float8 as p95,
                 count(*)::int as n
            from ads where decided_by = 'auto' and decided_at > now() - interval '24 hours'`,
        this.sql<Array<{ hour: string; provider: string; n: number }>>`
          select to_char(date_trunc('hour', created_at), 'YYYY-MM-DD"T"HH24') as hour, provider, count(*)::int as n
            from processing_errors where created_at > now() - interval '24 hours'
           group by 1, 2 order by 1`,
        this.counts(),
      ]);
      return { perDay, latency: latency[0] ?? { p50: null, p95: null, n: 0 }, errors, counts };
    });
  }

  /** The e-mail outbox, newest first, keyset-paginated by id. */
  outbox(opts: { beforeId?: string; status?: string; limit: number }): Promise<{ rows: OutboxRow[]; more: boolean }> {
    return this.run(async () => {
      const sql = this.sql;
      const rows = await sql<OutboxRow[]>`
        select e.*, left(a.description, 80) as ad_description
          from emails e join ads a on a.id = e.ad_id
         where true ${opts.status ? sql`and e.status = ${opts.status}` : sql``}
               ${opts.beforeId ? sql`and e.id < ${opts.beforeId}` : sql``}
         order by e.id desc limit ${opts.limit + 1}`;
      return { rows: rows.slice(0, opts.limit), more: rows.length > opts.limit };
    });
  }
}

// The search folding of src/i18n/text.ts in SQL (PostgreSQL and PGlite): translate() maps each
// character of FOLD_FROM to the one at the same place in FOLD_TO, and deletes those past its end
// (ZWNJ and tatweel).
const DIGITS = "0123456789";
const FOLD_FROM = "\u064a\u0649\u0643" + "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669" + "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9" + "\u200c\u0640";
const FOLD_TO = "\u06cc\u06cc\u06a9" + DIGITS + DIGITS;

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => "\\" + c);
}
