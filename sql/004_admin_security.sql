-- 004: admin sign-in hardening: bind each operator session to the password it was opened with.
-- password_tag is an HMAC of the session's token hash under a key derived (scrypt) from
-- ADMIN_PASSWORD, never the password or a plain hash of it. A session whose tag does not match the
-- current password's is no session, so changing ADMIN_PASSWORD ends every open session. Sessions
-- opened before this migration have no tag: their operators sign in again.
alter table admin_sessions add column password_tag text;
