-- 003: the database is the scheduler. Each ad records whether its outstanding work has been
-- handed to the broker (dispatched_at), who is working on it (a short, heartbeat-renewed lease),
-- and how often processing started without finishing (poison jobs).
alter table ads add column dispatched_at timestamptz;
alter table ads add column dispatch_hold_until timestamptz;
-- Bumped whenever new work is recorded, so a late "dispatched" mark for older work changes nothing.
alter table ads add column dispatch_gen integer not null default 0;
alter table ads add column lease_owner text;
alter table ads add column lease_until timestamptz;
alter table ads add column processing_starts integer not null default 0;
-- Existing rows: everything already decided counts as dispatched; pending ads are published again once.
update ads set dispatched_at = coalesce(decided_at, updated_at) where state <> 'pending';

-- The scheduler's scan: only ads with work not yet handed to the broker.
create index ads_undispatched_idx on ads (next_attempt_at) where dispatched_at is null;
-- Heartbeats and expired-lease reaping.
create index ads_leased_idx on ads (lease_until) where lease_until is not null;

alter table emails add column lease_owner text;
alter table emails drop constraint emails_status_check;
alter table emails add constraint emails_status_check
  check (status in ('queued', 'sending', 'sent', 'failed', 'superseded'));
create index emails_leased_idx on emails (lease_until) where status = 'sending';

-- Work held while a provider's circuit breaker is open (no attempt counted); released when it closes.
alter table ads add column held_by text;
alter table emails add column held_by text;
create index ads_held_idx on ads (held_by) where held_by is not null;
create index emails_held_idx on emails (held_by) where held_by is not null;
