/**
 * The one statement that decides an ad, used by the worker (the rule's decision) and by operators
 * (approve / reject). In ONE statement (data-modifying CTEs: one snapshot, all or nothing) it
 *
 *  1. moves the row to its new state, guarded by what the caller based the decision on — the
 *     worker decides only a pending ad; an operator only the row version (`xmin`) they read;
 *  2. writes the history entry, naming the actor;
 *  3. supersedes any older e-mail not yet sent, so the poster never gets a stale outcome after
 *     the current one;
 *  4. queues the e-mail announcing the decision (if any), or hands it straight to the caller
 *     leased, when the caller sends it next;
 *  5. records who hands the ad's remaining work to the broker (see `Dispatch`), bumping the
 *     dispatch generation a late "dispatched" mark is checked against.
 *
 * An empty result means the guard did not hold: someone else got there first, nothing changed.
 */
import type { AdState, EmailDraft, EmailRow } from "../domain/ad";
import type { Tag } from "../tagger/tagger";
import type { Sql } from "./database";

/**
 * Who hands the decided ad's e-mail to the broker: the caller, who holds the e-mail's lease and
 * sends it now (`lease`); the caller's own publish, which the scheduler waits `holdMs` for
 * (`hold`); or the scheduler alone (`scheduler`).
 */
export type Dispatch = { lease: { owner: string; ms: number } } | { holdMs: number } | "scheduler";

export interface Transition {
  id: string;
  /** The state the decision was based on, and for operators the row version they read. */
  from: { state: "pending" } | { state: AdState; version: string };
  to: {
    state: "accepted" | "rejected" | "review";
    category: string | null;
    /** The tags behind the decision; undefined keeps those already stored (operators). */
    tags?: Tag[];
    /** The earlier ad whose photo this one repeats; undefined keeps what is stored. */
    copyOf?: string | null;
    actor: string;
    reason: string | null;
  };
  /** The e-mail announcing the decision; null while an operator reviews the ad. */
  email: EmailDraft | null;
  dispatch: Dispatch;
}

/** Applies a transition; null when its guard did not hold (nothing was written). */
export async function applyTransition(sql: Sql, t: Transition): Promise<{ gen: number; email: EmailRow | null } | null> {
  const { id, from, to, email: e, dispatch } = t;
  const lease = typeof dispatch === "object" && "lease" in dispatch ? dispatch.lease : null;
  const holdMs = typeof dispatch === "object" && "holdMs" in dispatch ? dispatch.holdMs : null;
  const decided = to.state !== "review";
  const guard = "version" in from ? sql`xmin::text = ${from.version}` : sql`state = 'pending'`;
  const rows = await sql<Array<{ won_id: string; gen: number } & Partial<EmailRow>>>`
    with upd as (
      update ads set state = ${to.state}, category = ${to.category},
             tags = ${to.tags === undefined ? sql`tags` : sql.json(to.tags as never)},
             copy_of = ${to.copyOf === undefined ? sql`copy_of` : to.copyOf},
             decided_by = ${decided ? to.actor : null}, decided_at = ${decided ? sql`now()` : null},
             decision_reason = ${to.reason}, updated_at = now(), last_error = null,
             lease_owner = null, lease_until = null, processing_starts = 0, held_by = null,
             dispatched_at = ${lease ? sql`now()` : null},
             dispatch_hold_until = ${holdMs !== null ? sql`now() + ${holdMs} * interval '1 millisecond'` : sql`dispatch_hold_until`},
             dispatch_gen = dispatch_gen + 1
       where id = ${id} and ${guard}
      returning id, dispatch_gen
    ), ev as (
      insert into ad_events (ad_id, from_state, to_state, actor, reason)
      select id, ${from.state}, ${to.state}, ${to.actor}, ${to.reason} from upd
    ), sup as (
      update emails set status = 'superseded', lease_until = null
       where ad_id in (select id from upd) and status in ('queued', 'failed')
    ), em as (
      insert into emails (ad_id, kind, to_address, subject, body_text, body_html, status, attempts, lease_until, lease_owner)
      select id, ${e?.kind ?? "rejected"}, ${e?.to ?? ""}, ${e?.subject ?? ""}, ${e?.text ?? ""}, ${e?.html ?? ""},
             ${lease ? "sending" : "queued"}, ${lease ? 1 : 0},
             ${lease ? sql`now() + ${lease.ms} * interval '1 millisecond'` : null}, ${lease ? lease.owner : null}
        from upd where ${e !== null}
      returning *
    )
    select upd.id as won_id, upd.dispatch_gen as gen, em.* from upd left join em on true`;
  const row = rows[0];
  if (!row) return null;
  const { won_id: _id, gen, ...mail } = row;
  return { gen, email: mail.id ? (mail as EmailRow) : null };
}
