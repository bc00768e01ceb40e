-- 001: ads with their moderation outcome, the e-mail outbox, and an audit trail of state changes.
create table ads (
  id                 uuid primary key,
  description        text not null check (char_length(description) between 1 and 5000),
  email              text not null check (char_length(email) between 3 and 254),
  image_key          text not null unique,
  image_content_type text not null,
  image_bytes        integer not null check (image_bytes > 0),
  state              text not null default 'pending'
                     check (state in ('pending', 'accepted', 'rejected', 'failed')),
  category           text,
  tags               jsonb,
  decided_by         text,
  decided_at         timestamptz,
  attempts           integer not null default 0,
  last_error         text,
  next_attempt_at    timestamptz not null default now(),
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  check (state <> 'accepted' or category is not null)
);

-- Operator lists: newest first per state, keyset-paginated.
create index ads_state_created_idx on ads (state, created_at desc, id desc);
-- The sweeper: pending ads whose dispatch is overdue.
create index ads_pending_due_idx on ads (next_attempt_at) where state = 'pending';

-- Every e-mail the service means to send, written in the same transaction as the decision it
-- announces (a transactional outbox): a crash after the decision never loses the e-mail.
create table emails (
  id            bigint generated always as identity primary key,
  ad_id         uuid not null references ads (id) on delete cascade,
  kind          text not null check (kind in ('accepted', 'rejected')),
  to_address    text not null,
  subject       text not null,
  body_text     text not null,
  body_html     text not null,
  status        text not null default 'queued' check (status in ('queued', 'sending', 'sent', 'failed')),
  attempts      integer not null default 0,
  lease_until   timestamptz,
  next_attempt_at timestamptz not null default now(),
  provider_id   text,
  last_error    text,
  created_at    timestamptz not null default now(),
  sent_at       timestamptz
);
create index emails_ad_idx on emails (ad_id);
create index emails_unsent_idx on emails (next_attempt_at) where status in ('queued', 'sending');

-- Who changed an ad's state, when and why.
create table ad_events (
  id         bigint generated always as identity primary key,
  ad_id      uuid not null references ads (id) on delete cascade,
  from_state text,
  to_state   text not null,
  actor      text not null,
  reason     text,
  created_at timestamptz not null default now()
);
create index ad_events_ad_idx on ad_events (ad_id, id);
