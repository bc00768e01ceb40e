/**
 * The embedded database of the zero-configuration mode: PGlite (PostgreSQL 18 compiled to WASM)
 * in this process, served over the PostgreSQL wire protocol on 127.0.0.1 so that the very same
 * postgres.js code (pools in the main thread and in the worker thread) talks to it. This file is
 * the public entry (the rest of the code imports only this); it puts the three parts together:
 * - embedded-postgres/data-dir-lock.ts: the PID lock on the directory (PGlite takes none);
 * - embedded-postgres/snapshot.ts: opening PGlite, restoring the shipped initdb snapshot on a
 *   first start (initdb in WASM is slow);
 * - embedded-postgres/wire-server.ts: the wire server, hand-written because pglite-socket
 *   interleaves concurrent connections (measurements in its header).
 *
 * What PGlite is and is not (measured; see the tests and ../shared/reference/embedded-postgres.md):
 * ONE backend session for every connection, so transactions run one at a time and code inside
 * `sql.begin` must never await a query on another connection (it would wait forever); no
 * LISTEN/NOTIFY between connections; fsync off.
 *
 * Layout of `dir`: `.lock` (our lock: the owner's PID), `pgdata/` (PostgreSQL's files),
 * `pgdata/.ad-service-ready` (written once the first start completed).
 */
import type { PGlite } from "@electric-sql/pglite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acquireLock } from "./data-dir-lock";
import { openDataDir } from "./snapshot";
import { WireServer } from "./wire-server";
import type { Logger } from "../../platform/logger";

export { DataDirLockedError } from "./data-dir-lock";

export interface EmbeddedPostgres {
  /** A postgres.js URL: 127.0.0.1, a free port, a random password (a secret: mask it in logs). */
  url: string;
  /** Stops serving, closes PGlite (flushing to disk) and releases the lock. Idempotent. */
  close(): Promise<void>;
}

/** Default connection limit: well above the app's pools (10 + ~10) plus `migrate` and tests. */
export const DEFAULT_MAX_CONNECTIONS = 64;

/**
 * Opens (or creates) the database under `dir` (e.g. DATA_DIR/pg), takes an exclusive lock
 * (DataDirLockedError if a live process holds it), serves the wire protocol on 127.0.0.1 (port 0)
 * and returns a postgres.js URL.
 */
export async function startEmbeddedPostgres(opts: { dir: string; log?: Logger; maxConnections?: number }): Promise<EmbeddedPostgres> {
  const { dir, log } = opts;
  const started = performance.now();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const releaseLock = acquireLock(dir, log);
  let db: PGlite | null = null;
  try {
    const opened = await openDataDir(join(dir, "pgdata"), log);
    db = opened.db;
    const server = new WireServer(db, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS, log);
    const url = await server.listen();
    log?.info("embedded database ready", { dir, first_start: opened.fresh, ms: Math.round(performance.now() - started) });
    let closing: Promise<void> | null = null;
    return {
      url,
      close() {
        closing ??= (async () => {
          try {
            await server.close();
            await opened.db.close();
          } finally {
            releaseLock();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await db?.close().catch(() => {});
    releaseLock();
    throw err;
  }
}
