import postgres from "postgres";
import m001 from "../../sql/001_ads.sql" with { type: "text" };
import m002 from "../../sql/002_moderation.sql" with { type: "text" };
import m003 from "../../sql/003_reliability.sql" with { type: "text" };
import m004 from "../../sql/004_admin_security.sql" with { type: "text" };
import m005 from "../../sql/005_poster_language.sql" with { type: "text" };
import m006 from "../../sql/006_operators.sql" with { type: "text" };
import m007 from "../../sql/007_poster_control.sql" with { type: "text" };
import { DependencyError } from "../domain/errors";
import type { Logger } from "../platform/logger";
import { withTimeout } from "../platform/timeout";

export type Sql = postgres.Sql;

/** Migrations known to this build, in order. Embedded as text so the binary needs no files. */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  { version: 1, name: "001_ads", sql: m001 },
  { version: 2, name: "002_moderation", sql: m002 },
  { version: 3, name: "003_reliability", sql: m003 },
  { version: 4, name: "004_admin_security", sql: m004 },
  { version: 5, name: "005_poster_language", sql: m005 },
  { version: 6, name: "006_operators", sql: m006 },
  { version: 7, name: "007_poster_control", sql: m007 },
];

export interface DatabaseOptions {
  url: string;
  max?: number;
  connectTimeoutS?: number;
  log?: Logger;
}

/** Opens a postgres.js pool. Nothing is sent until the first query. */
export function connectDatabase(opts: DatabaseOptions): Sql {
  return postgres(opts.url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeoutS ?? 5,
    idle_timeout: 60,
    max_lifetime: 30 * 60,
    prepare: true,
    onnotice: () => {},
    connection: { application_name: "ad-service" },
  });
}

/**
 * Applies pending migrations under an advisory lock (several copies may start at once), and
 * refuses to run on a schema newer than this build knows.
 */
export async function migrate(sql: Sql, log?: Logger): Promise<number[]> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('ad-service:migrations'))`;
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    const rows = await tx<{ version: number }[]>`select version from schema_migrations order by version`;
    const applied = new Set(rows.map((r) => r.version));
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new Error(`database schema is at version ${newest} but this build knows only up to ${known}; upgrade ad-service`);
    }
    const done: number[] = [];
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
      log?.info("migration applied", { version: m.version, name: m.name });
      done.push(m.version);
    }
    return done;
  });
}

/** Wraps a database failure as a DependencyError, keeping constraint violations as they are. */
export function asDatabaseError(err: unknown): unknown {
  if (err instanceof DependencyError) return err;
  const e = err as { code?: string; message?: string };
  // Class 08 connection exceptions, 57P admin shutdown, 53 resources, 40 serialization/deadlock.
  const transient =
    typeof e.code !== "string" || /^(08|57P|53|40|58)/.test(e.code) || /ECONNREFUSED|ECONNRESET|CONNECT_TIMEOUT|CONNECTION_(CLOSED|ENDED|DESTROYED)/.test(e.code);
  return new DependencyError("database", e.message ?? String(err), transient, e.code ?? "error", { cause: err });
}

/** How long one repository call may wait for the database before it counts as a transient failure. */
export const DEFAULT_DATABASE_TIMEOUT_MS = 10_000;

/**
 * Runs a query function, turning any database failure into a DependencyError, and gives up after
 * `timeoutMs` with a transient one. Why a client-side limit: postgres.js 3.4.9 can leave queries
 * pending forever when PostgreSQL shuts down under them (measured here, on Bun and on Node: of 12
 * concurrent query loops, 3–6 never settled after a fast shutdown and restart, while new queries
 * worked; upstream porsager/postgres#1193). A query given up on settles on its own and its
 * outcome is ignored (Promise.race keeps its late rejection handled). Should such a write still
 * reach the server later, the state changes are conditional (a retry cannot decide or claim
 * twice); an attempt counter may count one attempt more, and an intake insert answered with 503
 * may still create a pending ad, whose image intake already removed, so it ends `failed`.
 *
 * For a related bug, nothing at run time uses multi-statement transactions (`sql.begin`): when
 * a backend dies mid-transaction, postgres.js's own ROLLBACK throws an uncaught exception
 * (porsager/postgres#1133, #1208) that would take the process down. Every change is one
 * statement (data-modifying CTEs), atomic by itself; only the migrations at start-up use one.
 */
export async function withDatabaseErrors<T>(fn: () => Promise<T>, timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS): Promise<T> {
  const work = fn();
  try {
    return await withTimeout(work, timeoutMs, () => new DependencyError("database", `no answer from the database within ${timeoutMs} ms`, true, "timeout"));
  } catch (err) {
    throw asDatabaseError(err);
  }
}
