-- 007: posters in control, re-posted photos, thumbnails, retention.
--
-- withdrawn: the poster took the ad down (manage link). Its photo is deleted and the row keeps
-- only what the audit needs: the description is emptied, the e-mail address replaced by its
-- hash, the tags dropped; the history says who and when.
alter table ads drop constraint ads_state_check;
alter table ads add constraint ads_state_check
  check (state in ('pending', 'review', 'accepted', 'rejected', 'failed', 'withdrawn'));
-- The application limits descriptions to 5000 characters as people count them (grapheme
-- clusters: a letter with its vowel marks, an emoji); the database only guards against abuse, in
-- code points, with room for those marks.
alter table ads drop constraint ads_description_check;
alter table ads add constraint ads_description_check
  check (char_length(description) between 1 and 20000 or (state = 'withdrawn' and description = ''));
alter table ads add column withdrawn_at timestamptz;
-- Set once the withdrawn ad's photo (and thumbnail) are gone from storage; the daily job retries until then.
alter table ads add column image_deleted_at timestamptz;

-- One appeal per rejected ad, with the poster's note; the ad goes to "Needs review".
alter table ads add column appeal_note text check (char_length(appeal_note) <= 1000);
alter table ads add column appealed_at timestamptz;

-- Re-posted photos: a 64-bit perceptual hash of the photo (signed bigint), and a one-way,
-- keyed hash of the poster's address (so "the same poster" survives the address's redaction).
-- The recent-photo scan reads only this covering index.
alter table ads add column photo_hash bigint;
alter table ads add column poster_hash text;
alter table ads add column copy_of uuid;
create index ads_photo_recent_idx on ads (created_at desc) include (photo_hash, poster_hash, state)
  where photo_hash is not null;

-- A small JPEG per accepted ad, made once, for the public list.
alter table ads add column thumb_key text;

-- Retention: when the poster's address of a decided ad was replaced by its hash.
alter table ads add column email_redacted_at timestamptz;
create index ads_retention_idx on ads (decided_at) where decided_at is not null and email_redacted_at is null;
create index ads_withdrawn_idx on ads (withdrawn_at) where state = 'withdrawn';

-- The public list of accepted ads, newest first, by category.
create index ads_accepted_list_idx on ads (created_at desc, id desc) where state = 'accepted';
