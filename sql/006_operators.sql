-- 006: a team of operators. Each person signs in with a name and a password of their own; every
-- session belongs to one operator, and every action names them. The bootstrap account `admin`
-- (role admin) is created at start from ADMIN_PASSWORD (or the generated one), so a set-up that
-- signs in with only the password keeps working.
create table operators (
  id                  bigint generated always as identity primary key,
  name                text not null check (char_length(name) between 1 and 40),
  display_name        text check (char_length(display_name) <= 80),
  role                text not null default 'operator' check (role in ('admin', 'operator')),
  -- Bun.password.hash(..., argon2id): "$argon2id$v=19$m=...,t=...,p=...$salt$hash".
  password_hash       text not null,
  lang                text not null default 'en' check (lang in ('fa', 'en')),
  disabled_at         timestamptz,
  created_at          timestamptz not null default now(),
  password_changed_at timestamptz not null default now(),
  last_sign_in_at     timestamptz
);
-- Names are unique whatever their case ("Sara" and "sara" are one operator).
create unique index operators_name_key on operators (lower(name));

-- Sessions belong to an operator; their password_tag is now an HMAC keyed by that operator's
-- password hash, so a password reset ends them, and a disabled operator's are refused. Sessions
-- from before this migration belong to nobody: they end (their operators sign in again).
delete from admin_sessions;
alter table admin_sessions add column operator_id bigint not null references operators (id) on delete cascade;
create index admin_sessions_operator_idx on admin_sessions (operator_id);
