/**
 * The operators' accounts and their sessions (sql/006_operators.sql). Every change is one
 * statement (see `withDatabaseErrors`): a password reset or a disabling ends the operator's
 * sessions in the same statement.
 */
import type { Sql } from "./database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "./database";
import type { Lang } from "../i18n";

export const OPERATOR_ROLES = ["admin", "operator"] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** An operator as the dashboard and the CLI show them (never the password hash). */
export interface OperatorInfo {
  id: string;
  name: string;
  display_name: string | null;
  role: OperatorRole;
  lang: Lang;
  disabled_at: Date | null;
  created_at: Date;
  password_changed_at: Date;
  last_sign_in_at: Date | null;
}

export interface OperatorRow extends OperatorInfo {
  password_hash: string;
}

/** A live session's row with its operator (for the guard). */
export interface SessionRow {
  csrf_token: string;
  expires_at: Date;
  password_tag: string | null;
  operator: OperatorRow;
}

/** Why a change was not made. */
export type ChangeOutcome = "done" | "unchanged" | "unknown" | "last_admin";

const INFO = "id::text as id, name, display_name, role, lang, disabled_at, created_at, password_changed_at, last_sign_in_at";

export class OperatorRepository {
  constructor(
    private readonly sql: Sql,
    private readonly timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {}

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return withDatabaseErrors(fn, this.timeoutMs);
  }

  /** The operator with this name, whatever its case, or null. */
  byName(name: string): Promise<OperatorRow | null> {
    return this.run(async () => {
      const [row] = await this.sql<OperatorRow[]>`select ${this.sql.unsafe(INFO)}, password_hash from operators where lower(name) = lower(${name})`;
      return row ?? null;
    });
  }

  byId(id: string): Promise<OperatorRow | null> {
    return this.run(async () => {
      if (!/^\d{1,18}$/.test(id)) return null;
      const [row] = await this.sql<OperatorRow[]>`select ${this.sql.unsafe(INFO)}, password_hash from operators where id = ${id}`;
      return row ?? null;
    });
  }

  /** Every operator, by name. */
  list(): Promise<OperatorInfo[]> {
    return this.run(() => this.sql<OperatorInfo[]>`select ${this.sql.unsafe(INFO)} from operators order by lower(name), id`);
  }

  /** Adds an operator; null when the name is taken (whatever its case). */
  create(o: { name: string; displayName?: string | null; role: OperatorRole; lang: Lang; passwordHash: string }): Promise<OperatorInfo | null> {
    return this.run(async () => {
      const [row] = await this.sql<OperatorInfo[]>`
        insert into operators (name, display_name, role, lang, password_hash)
        values (${o.name}, ${o.displayName ?? null}, ${o.role}, ${o.lang}, ${o.passwordHash})
        on conflict ((lower(name))) do nothing
        returning ${this.sql.unsafe(INFO)}`;
      return row ?? null;
    });
  }

  /** A new password hash: the operator's sessions end in the same statement. */
  setPassword(id: string, passwordHash: string): Promise<boolean> {
    return this.run(async () => {
      const rows = await this.sql`
        with o as (
          update operators set password_hash = ${passwordHash}, password_changed_at = now() where id = ${id} returning id
        ), s as (
          delete from admin_sessions where operator_id in (select id from o)
        )
        select id from o`;
      return rows.length > 0;
    });
  }

  /**
   * Disables (ending their sessions in the same statement) or enables an operator. The last
   * active admin is never disabled: someone must be able to manage the team from the dashboard.
   */
  setDisabled(id: string, disabled: boolean): Promise<ChangeOutcome> {
    return this.run(async () => {
      const rows = disabled
        ? await this.sql`
            with o as (
              update operators set disabled_at = now()
               where id = ${id} and disabled_at is null
                 and (role <> 'admin' or exists (select 1 from operators x where x.role = 'admin' and x.disabled_at is null and x.id <> ${id}))
              returning id
            ), s as (
              delete from admin_sessions where operator_id in (select id from o)
            )
            select id from o`
        : await this.sql`update operators set disabled_at = null where id = ${id} and disabled_at is not null returning id`;
      if (rows.length) return "done";
      return this.whyNot(id, (o) => (disabled ? o.disabled_at !== null : o.disabled_at === null));
    });
  }

  /** Changes an operator's role; the last active admin keeps theirs. */
  setRole(id: string, role: OperatorRole): Promise<ChangeOutcome> {
    return this.run(async () => {
      const rows = await this.sql`
        update operators set role = ${role}
         where id = ${id} and role <> ${role}
           and (${role} = 'admin' or disabled_at is not null
                or exists (select 1 from operators x where x.role = 'admin' and x.disabled_at is null and x.id <> ${id}))
        returning id`;
      if (rows.length) return "done";
      return this.whyNot(id, (o) => o.role === role);
    });
  }

  /** An operator's own preferences: the dashboard's language and the name shown beside theirs. */
  setPreferences(id: string, prefs: { lang: Lang; displayName: string | null }): Promise<boolean> {
    return this.run(async () => {
      const rows = await this.sql`update operators set lang = ${prefs.lang}, display_name = ${prefs.displayName} where id = ${id} returning id`;
      return rows.length > 0;
    });
  }

  private async whyNot(id: string, alreadySo: (o: OperatorRow) => boolean): Promise<ChangeOutcome> {
    const [o] = await this.sql<OperatorRow[]>`select ${this.sql.unsafe(INFO)}, password_hash from operators where id = ${id}`;
    if (!o) return "unknown";
    return alreadySo(o) ? "unchanged" : "last_admin";
  }

  // ---- sessions ----

  /** Opens a session (only the token's hash is stored) and records the sign-in. */
  openSession(s: { tokenHash: string; csrf: string; ip: string; expiresAt: Date; tag: string; operatorId: string }): Promise<void> {
    return this.run(async () => {
      await this.sql`
        with ins as (
          insert into admin_sessions (token_hash, csrf_token, ip, expires_at, password_tag, operator_id)
          values (${s.tokenHash}, ${s.csrf}, ${s.ip}, ${s.expiresAt}, ${s.tag}, ${s.operatorId})
          returning operator_id
        )
        update operators set last_sign_in_at = now() where id in (select operator_id from ins)`;
    });
  }

  /** The unexpired session with this token hash, with its operator if they are not disabled. */
  session(tokenHash: string): Promise<SessionRow | null> {
    return this.run(async () => {
      const [row] = await this.sql<Array<OperatorRow & { csrf_token: string; expires_at: Date; password_tag: string | null }>>`
        select s.csrf_token, s.expires_at, s.password_tag,
               o.id::text as id, o.name, o.display_name, o.role, o.lang, o.disabled_at, o.created_at, o.password_changed_at, o.last_sign_in_at, o.password_hash
          from admin_sessions s join operators o on o.id = s.operator_id
         where s.token_hash = ${tokenHash} and s.expires_at > now() and o.disabled_at is null`;
      if (!row) return null;
      const { csrf_token, expires_at, password_tag, ...operator } = row;
      return { csrf_token, expires_at, password_tag, operator };
    });
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.run(async () => {
      await this.sql`delete from admin_sessions where token_hash = ${tokenHash}`;
    });
  }

  purgeExpiredSessions(): Promise<void> {
    return this.run(async () => {
      await this.sql`delete from admin_sessions where expires_at < now()`;
    });
  }
}
