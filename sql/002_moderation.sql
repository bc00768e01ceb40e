-- 002: operator moderation: a 'review' state (human-review band), operator reasons, admin sessions, and provider errors for the overview.
alter table ads drop constraint ads_state_check;
alter table ads add constraint ads_state_check
  check (state in ('pending', 'review', 'accepted', 'rejected', 'failed'));
alter table ads add column decision_reason text;

create index ads_decided_at_idx on ads (decided_at) where decided_at is not null;
create index ads_created_at_idx on ads (created_at desc, id desc);

-- Operator sessions, shared by every API copy. Only a hash of the cookie's token is stored.
create table admin_sessions (
  token_hash   text primary key,
  csrf_token   text not null,
  ip           text,
  created_at   timestamptz not null default now(),
  expires_at   timestamptz not null
);
create index admin_sessions_expires_idx on admin_sessions (expires_at);

-- Every failed processing step (what the overview charts and the ad detail show).
create table processing_errors (
  id         bigint generated always as identity primary key,
  ad_id      uuid references ads (id) on delete cascade,
  provider   text not null,
  reason     text not null,
  transient  boolean not null,
  message    text not null,
  created_at timestamptz not null default now()
);
create index processing_errors_created_idx on processing_errors (created_at);
create index processing_errors_ad_idx on processing_errors (ad_id, id);
