import type { Sql } from "./database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "./database";
import type { Tag } from "./tagger";

export type AdState = "pending" | "review" | "accepted" | "rejected" | "failed";

/** What went wrong in a processing step, as recorded for operators. */
export interface ErrorFacts {
  provider: string;
  reason: string;
  transient: boolean;
  message: string;
}

export interface AdRow {
  id: string;
  description: string;
  email: string;
  image_key: string;
  image_content_type: string;
  image_bytes: number;
  state: AdState;
  category: string | null;
  tags: Tag[] | null;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  updated_at: Date;
}

/** The columns the public routes read. */
export type PublicAdRow = Pick<AdRow, "id" | "state" | "description" | "category" | "image_key" | "image_content_type" | "created_at" | "decided_at">;

export interface NewAd {
  id: string;
  description: string;
  email: string;
  imageKey: string;
  imageContentType: string;
  imageBytes: number;
}

export interface EmailDraft {
  kind: "accepted" | "rejected";
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface EmailRow {
  id: string;
  ad_id: string;
  kind: "accepted" | "rejected";
  to_address: string;
  subject: string;
  body_text: string;
  body_html: string;
  status: "queued" | "sending" | "sent" | "failed";
  attempts: number;
  provider_id: string | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface DecisionRecord {
  state: "accepted" | "rejected" | "review";
  category: string | null;
  tags: Tag[];
  actor: string;
  reason: string;
  /** The e-mail announcing the decision; null when there is none yet (held for review). */
  email: EmailDraft | null;
}

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

  /** Throws if the database cannot answer. */
  ping(): Promise<void> {
    return this.run(async () => {
      await this.sql`select 1`;
    });
  }

  /** Stores a new pending ad and its "submitted" history entry, atomically, in one statement. */
  insert(ad: NewAd): Promise<AdRow> {
    return this.run(async () => {
      const [row] = await this.sql<AdRow[]>`
        with a as (
          insert into ads (id, description, email, image_key, image_content_type, image_bytes)
          values (${ad.id}, ${ad.description}, ${ad.email}, ${ad.imageKey}, ${ad.imageContentType}, ${ad.imageBytes})
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
   * Decides a pending ad in ONE statement: state, category and raw tags in a conditional update,
   * the history entry and the outgoing e-mail (data-modifying CTEs: one snapshot, all or nothing).
   * With `leaseMs` the e-mail is created already leased to the caller, who sends it next; with
   * null it is queued. `won` is false (and nothing changes) when the ad was no longer pending — a
   * duplicate delivery or an operator got there first.
   */
  decideAndClaim(id: string, d: DecisionRecord, leaseMs: number | null): Promise<{ won: boolean; email: EmailRow | null }> {
    return this.run(async () => {
      const sql = this.sql;
      const e = d.email;
      const claim = leaseMs !== null;
      const rows = await sql<Array<{ won_id: string } & Partial<EmailRow>>>`
        with upd as (
          update ads set state = ${d.state}, category = ${d.category}, tags = ${sql.json(d.tags as never)},
                 decided_by = ${d.state === "review" ? null : d.actor}, decided_at = ${d.state === "review" ? null : new Date()},
                 decision_reason = ${d.reason}, updated_at = now(), last_error = null
           where id = ${id} and state = 'pending'
          returning id
        ), ev as (
          insert into ad_events (ad_id, from_state, to_state, actor, reason)
          select id, 'pending', ${d.state}, ${d.actor}, ${d.reason} from upd
        ), em as (
          insert into emails (ad_id, kind, to_address, subject, body_text, body_html, status, attempts, lease_until)
          select id, ${e?.kind ?? "rejected"}, ${e?.to ?? ""}, ${e?.subject ?? ""}, ${e?.text ?? ""}, ${e?.html ?? ""},
                 ${claim ? "sending" : "queued"}, ${claim ? 1 : 0},
                 ${claim ? sql`now() + ${leaseMs} * interval '1 millisecond'` : null}
            from upd where ${e !== null}
          returning *
        )
        select upd.id as won_id, em.* from upd left join em on true`;
      const row = rows[0];
      if (!row) return { won: false, email: null };
      return { won: true, email: row.id ? (row as unknown as EmailRow) : null };
    });
  }

  /** Counts a failed attempt on a pending ad, records the error, and says when it is due again. */
  recordAttemptFailure(id: string, error: ErrorFacts, retryInMs: number): Promise<number> {
    return this.run(async () => {
      const [row] = await this.sql<{ attempts: number }[]>`
        with upd as (
          update ads set attempts = attempts + 1, last_error = ${error.message.slice(0, 2000)},
                 next_attempt_at = now() + ${retryInMs} * interval '1 millisecond', updated_at = now()
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
          update ads set state = 'failed', attempts = attempts + 1, last_error = ${error.message.slice(0, 2000)}, updated_at = now()
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
   * Leases this ad's unsent e-mails for `leaseMs`, so concurrent deliveries of the same message
   * never send the same e-mail twice. An expired lease (a crash mid-send) is taken over.
   */
  claimEmails(adId: string, leaseMs: number): Promise<EmailRow[]> {
    return this.run(() =>
      this.sql<EmailRow[]>`
        update emails set status = 'sending', attempts = attempts + 1,
               lease_until = now() + ${leaseMs} * interval '1 millisecond'
         where id in (select id from emails
                       where ad_id = ${adId}
                         and (status = 'queued' or (status = 'sending' and lease_until < now()))
                       order by id for update skip locked)
        returning *`,
    );
  }

  /** Records the provider's acceptance of an e-mail. */
  markEmailSent(emailId: string, providerId: string): Promise<void> {
    return this.run(async () => {
      await this.sql`update emails set status = 'sent', provider_id = ${providerId}, sent_at = now(),
                            lease_until = null, last_error = null where id = ${emailId}`;
    });
  }

  /** Releases an e-mail after a failed send: queued again (transient) or failed for good. */
  markEmailError(emailId: string, adId: string, error: ErrorFacts, final: boolean): Promise<void> {
    return this.run(async () => {
      await this.sql`
        with upd as (
          update emails set status = ${final ? "failed" : "queued"}, lease_until = null,
                 next_attempt_at = now(), last_error = ${error.message.slice(0, 2000)}
           where id = ${emailId}
          returning id
        ), err as (${errorInsert(this.sql, adId, error)})
        select count(*) from upd`;
    });
  }

  /** E-mails about one ad, oldest first. */
  emailsFor(adId: string): Promise<EmailRow[]> {
    return this.run(() => this.sql<EmailRow[]>`select * from emails where ad_id = ${adId} order by id`);
  }

  /** The history of one ad, oldest first. */
  eventsFor(adId: string): Promise<Array<{ from_state: string | null; to_state: string; actor: string; reason: string | null; created_at: Date }>> {
    return this.run(() => this.sql`select from_state, to_state, actor, reason, created_at from ad_events where ad_id = ${adId} order by id` as never);
  }

  /**
   * Ids whose work is overdue: pending ads not dispatched for `overdueMs`, and ads with an e-mail
   * stuck unsent for as long. Their due time is pushed forward so that concurrent sweepers (one
   * per worker copy) do not pick the same ids.
   */
  claimOverdue(overdueMs: number, limit: number): Promise<string[]> {
    return this.run(async () => {
      const rows = await this.sql<{ id: string }[]>`
        with due_ads as (
          update ads set next_attempt_at = now()
           where id in (select id from ads
                         where state = 'pending' and next_attempt_at < now() - ${overdueMs} * interval '1 millisecond'
                         order by next_attempt_at limit ${limit} for update skip locked)
          returning id
        ), due_mails as (
          update emails set status = 'queued', lease_until = null, next_attempt_at = now()
           where id in (select id from emails
                         where status in ('queued', 'sending')
                           and coalesce(lease_until, next_attempt_at) < now() - ${overdueMs} * interval '1 millisecond'
                         order by id limit ${limit} for update skip locked)
          returning ad_id
        )
        select id from due_ads union select ad_id from due_mails`;
      return rows.map((r) => r.id);
    });
  }
}

/** The insert of a processing error, as a fragment for a data-modifying CTE. */
function errorInsert(sql: Sql, adId: string | null, e: ErrorFacts) {
  return sql`insert into processing_errors (ad_id, provider, reason, transient, message)
             values (${adId}, ${e.provider}, ${e.reason.slice(0, 100)}, ${e.transient}, ${e.message.slice(0, 2000)})`;
}
