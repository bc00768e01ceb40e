/**
 * What posters and the public can do with ads, and what the daily job keeps tidy: withdraw,
 * appeal, the poster's view of an ad and its history, the public list of accepted ads, photo
 * hashes for re-post detection, thumbnails, and retention. Each change is one statement with its
 * history entry.
 */
import type { Sql } from "./database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "./database";
import type { AdState } from "../domain/ad";
import type { PhotoMatch } from "../domain/decision";
import { fromSigned64, toSigned64 } from "../image/phash";

/** The SQL twin of `normalizeForSearch` (src/i18n/text.ts): Arabic/Persian letter and digit variants folded, ZWNJ and tatweel dropped. */
export const FOLD_FROM = "يىك٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹\u200c\u0640";
export const FOLD_TO = "ییک01234567890123456789";

export interface PosterView {
  id: string;
  state: AdState;
  description: string;
  category: string | null;
  lang: "fa" | "en";
  created_at: Date;
  decided_at: Date | null;
  appealed_at: Date | null;
  appeal_note: string | null;
  withdrawn_at: Date | null;
  /** Who moved the ad, as the poster may know it: themselves, the automatic check, or a moderator (never a name). */
  history: Array<{ from_state: string | null; to_state: string; by: "poster" | "auto" | "moderator"; created_at: Date }>;
}

export interface ListedAd {
  id: string;
  description: string;
  category: string;
  created_at: Date;
  thumb_key: string | null;
  image_key: string;
  image_content_type: string;
}

export type AppealResult = "appealed" | "already_appealed" | "not_rejected" | "unknown";

export class PosterRepository {
  constructor(
    private readonly sql: Sql,
    private readonly timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {}

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return withDatabaseErrors(fn, this.timeoutMs);
  }

  /** The ad as its poster sees it, with its history (no tags, no operator names); null if unknown. */
  view(id: string): Promise<PosterView | null> {
    return this.run(async () => {
      const [ad] = await this.sql<Omit<PosterView, "history">[]>`
        select id, state, description, category, lang, created_at, decided_at, appealed_at, appeal_note, withdrawn_at
          from ads where id = ${id}`;
      if (!ad) return null;
      const history = await this.sql<PosterView["history"]>`
        select from_state, to_state,
               case when actor = 'poster' then 'poster' when actor = 'auto' then 'auto' else 'moderator' end as by,
               created_at
          from ad_events where ad_id = ${id} and from_state is distinct from to_state order by id`;
      return { ...ad, history };
    });
  }

  /**
   * Withdraws an ad: out of public view at once; the description emptied, the address replaced by
   * the poster hash, tags and category dropped, unsent e-mails superseded, and a history entry.
   * Returns the storage keys to delete, or null when the ad is unknown or already withdrawn.
   */
  withdraw(id: string, posterHash: string): Promise<{ imageKey: string; thumbKey: string | null } | null> {
    return this.run(async () => {
      const [row] = await this.sql<{ image_key: string; thumb_key: string | null }[]>`
        with before as (
          select id, state from ads where id = ${id} and state <> 'withdrawn' for update
        ), upd as (
          update ads a set state = 'withdrawn', description = '', email = ${posterHash}, poster_hash = coalesce(a.poster_hash, ${posterHash}),
                 tags = null, category = null, appeal_note = null, withdrawn_at = now(), updated_at = now(),
                 lease_owner = null, lease_until = null, held_by = null, dispatched_at = now(), dispatch_gen = dispatch_gen + 1
            from before b where a.id = b.id
          returning a.id, a.image_key, a.thumb_key
        ), ev as (
          insert into ad_events (ad_id, from_state, to_state, actor, reason)
          select b.id, b.state, 'withdrawn', 'poster', 'withdrawn by the poster' from before b join upd on upd.id = b.id
        ), sup as (
          update emails set status = 'superseded', lease_until = null, to_address = ${posterHash}
           where ad_id in (select id from upd) and status in ('queued', 'failed', 'sending')
        ), addr as (
          update emails set to_address = ${posterHash} where ad_id in (select id from upd) and status in ('sent', 'superseded')
        )
        select image_key, thumb_key from upd`;
      return row ? { imageKey: row.image_key, thumbKey: row.thumb_key } : null;
    });
  }

  /** The poster's address and its hash (null until the worker has hashed it); null if the ad is unknown. */
  addressOf(id: string): Promise<{ email: string; poster_hash: string | null } | null> {
    return this.run(async () => {
      const [r] = await this.sql<{ email: string; poster_hash: string | null }[]>`select email, poster_hash from ads where id = ${id}`;
      return r ?? null;
    });
  }

  /** Records that a withdrawn ad's photo and thumbnail are gone from storage. */
  markImageDeleted(id: string): Promise<void> {
    return this.run(async () => {
      await this.sql`update ads set image_deleted_at = now() where id = ${id} and state = 'withdrawn'`;
    });
  }

  /** Withdrawn ads whose photo may still be in storage (the delete after the withdrawal failed). */
  withdrawnWithImages(limit: number): Promise<Array<{ id: string; image_key: string; thumb_key: string | null }>> {
    return this.run(() => this.sql<Array<{ id: string; image_key: string; thumb_key: string | null }>>`
      select id, image_key, thumb_key from ads where state = 'withdrawn' and image_deleted_at is null order by withdrawn_at limit ${limit}`);
  }

  /**
   * The poster's one appeal of a rejection, with a note: the ad goes to "Needs review" for an
   * operator, whose decision is e-mailed as usual.
   */
  appeal(id: string, note: string): Promise<AppealResult> {
    return this.run(async () => {
      const rows = await this.sql<{ id: string }[]>`
        with upd as (
          update ads set state = 'review', appeal_note = ${note}, appealed_at = now(), updated_at = now(),
                 decided_by = null, decided_at = null
           where id = ${id} and state = 'rejected' and appealed_at is null
          returning id
        ), ev as (
          insert into ad_events (ad_id, from_state, to_state, actor, reason)
          select id, 'rejected', 'review', 'poster', 'appealed by the poster' from upd
        ), sup as (
          update emails set status = 'superseded', lease_until = null where ad_id in (select id from upd) and status in ('queued', 'failed')
        )
        select id from upd`;
      if (rows.length) return "appealed";
      const [ad] = await this.sql<{ state: AdState; appealed_at: Date | null }[]>`select state, appealed_at from ads where id = ${id}`;
      if (!ad) return "unknown";
      return ad.appealed_at ? "already_appealed" : "not_rejected";
    });
  }

  /**
   * Accepted ads, newest first, one keyset page: optionally one category and a text that must
   * appear in the description (compared with Arabic/Persian variants folded, case-insensitively).
   */
  listAccepted(q: { category?: string; text?: string; after?: { createdAt: Date; id: string }; limit: number }): Promise<ListedAd[]> {
    return this.run(() => {
      const sql = this.sql;
      const text = q.text ? `%${q.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      return sql<ListedAd[]>`
        select id, description, category, created_at, thumb_key, image_key, image_content_type
          from ads
         where state = 'accepted'
           ${q.category ? sql`and category = ${q.category}` : sql``}
           ${text ? sql`and translate(lower(description), ${FOLD_FROM}, ${FOLD_TO}) like ${text}` : sql``}
           ${q.after ? sql`and (created_at, id) < (${q.after.createdAt}, ${q.after.id})` : sql``}
         order by created_at desc, id desc
         limit ${q.limit}`;
    });
  }

  /** The categories of accepted ads, most common first (for the list's filter). */
  acceptedCategories(limit = 30): Promise<Array<{ category: string; n: number }>> {
    return this.run(() => this.sql<Array<{ category: string; n: number }>>`
      select category, count(*)::int as n from ads where state = 'accepted' group by category order by n desc, category limit ${limit}`);
  }

  /** Stores an ad's photo hash and poster hash (once the worker has computed them). */
  recordPhoto(id: string, photoHash: bigint, posterHash: string): Promise<void> {
    return this.run(async () => {
      await this.sql`update ads set photo_hash = ${toSigned64(photoHash).toString()}, poster_hash = ${posterHash} where id = ${id}`;
    });
  }

  /**
   * Recent ads (within `days`) whose photo is within `maxDistance` bits of `photoHash`, nearest
   * first. One scan of the covering index over the recent window.
   */
  similarPhotos(id: string, photoHash: bigint, posterHash: string, opts: { maxDistance: number; days: number; limit?: number }): Promise<PhotoMatch[]> {
    return this.run(async () => {
      const h = toSigned64(photoHash).toString();
      const rows = await this.sql<Array<{ id: string; state: AdState; same: boolean; distance: number }>>`
        select id, state, poster_hash = ${posterHash} as same, d as distance from (
          select id, state, poster_hash, bit_count((photo_hash # ${h}::bigint)::bit(64))::int as d
            from ads
           where photo_hash is not null and id <> ${id}
             and created_at > now() - ${opts.days} * interval '1 day'
        ) near
        where d <= ${opts.maxDistance}
        order by d, id
        limit ${opts.limit ?? 5}`;
      return rows.map((r) => ({ id: r.id, state: r.state, samePoster: r.same, distance: r.distance }));
    });
  }

  /** The stored photo hash of an ad, if computed. */
  photoHashOf(id: string): Promise<bigint | null> {
    return this.run(async () => {
      const [r] = await this.sql<{ photo_hash: string | null }[]>`select photo_hash::text from ads where id = ${id}`;
      return r?.photo_hash ? fromSigned64(r.photo_hash) : null;
    });
  }

  /** An accepted ad's photo and thumbnail keys; null unless the ad is accepted. */
  acceptedPhoto(id: string): Promise<{ image_key: string; thumb_key: string | null } | null> {
    return this.run(async () => {
      const [r] = await this.sql<{ image_key: string; thumb_key: string | null }[]>`select image_key, thumb_key from ads where id = ${id} and state = 'accepted'`;
      return r ?? null;
    });
  }

  /** Records an accepted ad's thumbnail. */
  recordThumbnail(id: string, key: string): Promise<void> {
    return this.run(async () => {
      await this.sql`update ads set thumb_key = ${key} where id = ${id}`;
    });
  }

  /**
   * Retention, one batch: decided ads older than `days` whose address is still kept. Returns
   * their ids and addresses; `redactEmails` replaces them.
   */
  addressesToRedact(days: number, limit: number): Promise<Array<{ id: string; email: string; poster_hash: string | null }>> {
    return this.run(() => this.sql<Array<{ id: string; email: string; poster_hash: string | null }>>`
      select id, email, poster_hash from ads
       where decided_at is not null and email_redacted_at is null and state <> 'withdrawn'
         and decided_at < now() - ${days} * interval '1 day'
       order by decided_at limit ${limit}`);
  }

  /** Replaces each ad's (and its e-mails') address by the poster hash. Idempotent. */
  redactEmails(items: ReadonlyArray<{ id: string; posterHash: string }>): Promise<number> {
    if (!items.length) return Promise.resolve(0);
    return this.run(async () => {
      const ids = items.map((i) => i.id);
      const hashes = items.map((i) => i.posterHash);
      const rows = await this.sql<{ id: string }[]>`
        with v as (select * from unnest(${ids}::uuid[], ${hashes}::text[]) as v(id, h)),
        upd as (
          update ads a set email = v.h, poster_hash = coalesce(a.poster_hash, v.h), email_redacted_at = now()
            from v where a.id = v.id and a.email_redacted_at is null
          returning a.id
        ), em as (
          update emails e set to_address = v.h from v where e.ad_id = v.id and e.ad_id in (select id from upd)
        )
        select id from upd`;
      return rows.length;
    });
  }

  /** Retention: deletes withdrawn ads (and their history and e-mails) withdrawn over `days` ago, one batch. */
  purgeWithdrawn(days: number, limit: number): Promise<number> {
    return this.run(async () => {
      const rows = await this.sql<{ id: string }[]>`
        delete from ads where id in (
          select id from ads where state = 'withdrawn' and image_deleted_at is not null
             and withdrawn_at < now() - ${days} * interval '1 day'
           order by withdrawn_at limit ${limit})
        returning id`;
      return rows.length;
    });
  }
}
