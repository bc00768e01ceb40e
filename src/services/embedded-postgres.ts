/**
 * The embedded database of the zero-configuration mode: PGlite (PostgreSQL 18 compiled to WASM)
 * in this process, served over the PostgreSQL wire protocol on 127.0.0.1 so that the very same
 * postgres.js code (pools in the main thread and in the worker thread) talks to it.
 *
 * What PGlite is and is not (measured; see the tests and ../shared/reference/embedded-postgres.md):
 * - ONE backend session for every connection. This module's wire server therefore hands the
 *   backend to one connection at a time: from its first message up to a Sync (or a simple Query)
 *   after which the backend is not inside a transaction block. So a transaction holds the whole
 *   database until it commits or rolls back (transactions run one at a time, never interleave),
 *   and a statement is never split by another connection's messages. Consequence: code inside
 *   `sql.begin` must never await a query on another connection (it would wait forever).
 * - No LISTEN/NOTIFY between connections, fsync off, no lock on the data directory (we take one:
 *   `dir/.lock`), initdb in WASM is slow (we restore a pre-initialised snapshot instead).
 *
 * Served on 127.0.0.1 (port 0) with a random per-process password (postgres.js URLs cannot name a
 * unix socket). Layout of `dir`: `.lock` (our lock: the owner's PID), `pgdata/` (PostgreSQL's
 * files), `pgdata/.ad-service-ready` (written once the first start completed; a `pgdata` without
 * it is a first start that crashed, so it is wiped and redone).
 */
import { PGlite } from "@electric-sql/pglite";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import initdbWasmPath from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import pgliteDataPath from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };
import pgliteWasmPath from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };
import snapshotPath from "../assets/pglite-initdb.tar.gz" with { type: "file" };
import type { Logger } from "./logger";

export interface EmbeddedPostgres {
  /** A postgres.js URL: 127.0.0.1, a free port, a random password (a secret: mask it in logs). */
  url: string;
  /** Stops serving, closes PGlite (flushing to disk) and releases the lock. Idempotent. */
  close(): Promise<void>;
}

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dir} is in use by another process (pid ${pid}); stop it or use another DATA_DIR`);
    this.name = "DataDirLockedError";
  }
}

/** Default connection limit: well above the app's pools (10 + ~10) plus `migrate` and tests. */
export const DEFAULT_MAX_CONNECTIONS = 64;

const READY_MARK = ".ad-service-ready";

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
    const pgdata = join(dir, "pgdata");
    const fresh = !existsSync(join(pgdata, READY_MARK));
    if (fresh && existsSync(pgdata)) {
      log?.warn("embedded database: removing an unfinished first start", { dir: pgdata });
      rmSync(pgdata, { recursive: true, force: true });
    }
    db = await openPglite(pgdata, fresh, log);
    if (fresh) writeFileSync(join(pgdata, READY_MARK), `${new Date().toISOString()}\n`);
    const server = new WireServer(db, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS, log);
    const url = await server.listen();
    log?.info("embedded database ready", { dir, first_start: fresh, ms: Math.round(performance.now() - started) });
    const opened = db;
    let closing: Promise<void> | null = null;
    return {
      url,
      close() {
        closing ??= (async () => {
          try {
            await server.close();
            await opened.close();
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

/** Compiles PGlite's WASM from the embedded files (works from source and inside the binary). */
let modules: Promise<{ pglite: WebAssembly.Module; initdb: WebAssembly.Module }> | null = null;
function wasmModules() {
  modules ??= (async () => {
    const [pglite, initdb] = await Promise.all([
      WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
      WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
    ]);
    return { pglite, initdb };
  })();
  return modules;
}

async function openPglite(pgdata: string, fresh: boolean, log?: Logger): Promise<PGlite> {
  const { pglite, initdb } = await wasmModules();
  const base = { dataDir: pgdata, pgliteWasmModule: pglite, initdbWasmModule: initdb, fsBundle: Bun.file(pgliteDataPath) };
  if (!fresh) return PGlite.create(base);
  const snapshot = Bun.file(snapshotPath);
  if (snapshot.size > 0) {
    try {
      return await PGlite.create({ ...base, loadDataDir: snapshot });
    } catch (err) {
      // A snapshot from another PGlite version: fall back to a (slow) initdb.
      log?.warn("embedded database: the shipped snapshot did not load; running initdb", { err: String(err) });
      rmSync(pgdata, { recursive: true, force: true });
    }
  }
  log?.info("embedded database: first start, running initdb (several seconds)");
  return PGlite.create(base);
}

// ---------------------------------------------------------------------------------------------
// The lock: `dir/.lock`, created with O_EXCL, holding the owner's PID. A lock whose PID is not
// alive (a crash, SIGKILL) is taken over; a live one refuses with DataDirLockedError.

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
  }
}

function acquireLock(dir: string, log?: Logger): () => void {
  const path = join(dir, ".lock");
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {}
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    } catch {}
    if (owner === process.pid) throw new DataDirLockedError(dir, owner); // opened twice in this process
    if (pidAlive(owner)) throw new DataDirLockedError(dir, owner);
    if (Number.isNaN(owner)) {
      // Being written right now by another starter, or left empty by a crash between create and write.
      Bun.sleepSync(50);
      try {
        owner = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      } catch {}
      if (pidAlive(owner)) throw new DataDirLockedError(dir, owner);
    }
    // Stale: take it over atomically (rename our own file over it would race; remove then retry O_EXCL).
    log?.warn("embedded database: taking over a stale lock", { dir, stale_pid: Number.isNaN(owner) ? null : owner });
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
      rmSync(aside, { force: true });
    } catch {}
  }
  throw new Error(`could not lock ${path}`);
}

// ---------------------------------------------------------------------------------------------
// The wire server. PGlite has one backend session; every connection's messages are fed to it, one
// connection at a time. A connection owns the backend from its first message until a Sync or a
// simple Query completes with no transaction block open; the others wait in line.

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

class WireServer {
  private server: Server | null = null;
  readonly password = randomBytes(24).toString("hex");
  private readonly conns = new Set<Connection>();
  private readonly sockets = new Set<Socket>();
  private owner: Connection | null = null;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly db: PGlite,
    private readonly maxConnections: number,
    readonly log?: Logger,
  ) {}

  /**
   * Listens on 127.0.0.1, port 0. postgres.js cannot express a unix socket in a URL, so the
   * server is TCP; other local users could reach it, hence the random password that every
   * connection must present (PGlite itself would accept anyone).
   */
  async listen(): Promise<string> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    return `postgres://postgres:${this.password}@127.0.0.1:${port}/postgres`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    // Bun may call close()'s callback late (or not at all) for a socket that was ended by us; do
    // not depend on it: every socket was destroyed above.
    if (server) await Promise.race([new Promise<void>((resolve) => server.close(() => resolve())), Bun.sleep(500)]);
    // Let the connections' clean-up (rollback of an open transaction) finish before PGlite closes.
    while (this.owner || this.conns.size) await Bun.sleep(5);
  }

  private accept(socket: Socket) {
    if (!this.server) return void socket.destroy();
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    if (this.conns.size >= this.maxConnections) {
      this.log?.warn("embedded database: connection refused, too many connections", { max: this.maxConnections });
      socket.end(errorResponse("53300", `sorry, too many connections (the embedded database accepts ${this.maxConnections})`));
      return;
    }
    const conn = new Connection(this, socket);
    this.conns.add(conn);
    socket.once("close", () => {
      this.conns.delete(conn);
      conn.closed();
    });
  }

  async acquire(c: Connection): Promise<void> {
    while (this.owner && this.owner !== c) await new Promise<void>((r) => this.waiters.push(r));
    this.owner = c;
  }

  release(c: Connection): void {
    if (this.owner !== c) return;
    this.owner = null;
    this.waiters.shift()?.();
  }

  isOwner(c: Connection): boolean {
    return this.owner === c;
  }
}

class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private pendingStartup: Buffer | null = null;
  private pumping = false;
  private isClosed = false;
  /** Messages were fed since the last Sync/Query: the backend may be inside an implicit transaction. */
  private midBatch = false;

  constructor(
    private readonly srv: WireServer,
    readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (data: Buffer | string) => {
      const chunk = typeof data === "string" ? Buffer.from(data) : data;
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      void this.pump();
    });
    socket.on("error", () => socket.destroy());
  }

  /** The next complete message, or null. `startup` messages have no type byte. */
  private next(): { type: string; msg: Buffer } | null {
    const b = this.buffer;
    if (!this.started) {
      if (b.length < 8) return null;
      const len = b.readInt32BE(0);
      if (b.length < len) return null;
      this.buffer = b.subarray(len);
      return { type: "startup", msg: b.subarray(0, len) };
    }
    if (b.length < 5) return null;
    const len = 1 + b.readInt32BE(1);
    if (b.length < len) return null;
    this.buffer = b.subarray(len);
    return { type: String.fromCharCode(b[0]!), msg: b.subarray(0, len) };
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let m: { type: string; msg: Buffer } | null = this.next(); m && !this.isClosed; m = this.next()) {
        if (m.type === "startup") {
          const code = m.msg.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            this.socket.write("N");
            continue;
          }
          if (code === CANCEL_REQUEST) {
            this.socket.end(); // not supported
            return;
          }
          this.started = true;
          // Ask for the password first; PGlite sees the startup message once it is given.
          this.pendingStartup = Buffer.from(m.msg);
          this.socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
          continue;
        } else if (this.pendingStartup) {
          const given = m.type === "p" ? m.msg.subarray(5, m.msg.length - 1) : Buffer.alloc(0);
          const want = Buffer.from(this.srv.password);
          if (given.length !== want.length || !timingSafeEqual(given, want)) {
            this.socket.end(errorResponse("28P01", "password authentication failed for the embedded database"));
            return;
          }
          m = { type: "startup", msg: this.pendingStartup };
          this.pendingStartup = null;
        } else if (m.type === "X") {
          this.socket.end();
          return;
        }
        await this.srv.acquire(this);
        if (this.isClosed) break;
        await this.exec(m.msg);
        const boundary = m.type === "S" || m.type === "Q" || m.type === "startup";
        this.midBatch = !boundary;
        if (boundary && !this.srv.db.isInTransaction()) this.srv.release(this);
      }
    } catch (err) {
      this.srv.log?.error("embedded database: wire protocol error", { err: String(err) });
      this.socket.destroy();
    } finally {
      this.pumping = false;
      if (this.isClosed) await this.cleanUp();
    }
  }

  private exec(msg: Uint8Array): Promise<void> {
    const db = this.srv.db;
    return db.runExclusive(() =>
      db.execProtocolRawStream(new Uint8Array(msg), {
        onRawData: (data: Uint8Array) => {
          if (data.length && !this.isClosed) this.socket.write(Buffer.from(data));
        },
      }),
    );
  }

  closed(): void {
    this.isClosed = true;
    if (!this.pumping) void this.cleanUp();
  }

  /** A connection gone while owning the backend: end its batch, roll back its transaction, hand over. */
  private async cleanUp(): Promise<void> {
    if (!this.srv.isOwner(this)) return;
    const db = this.srv.db;
    try {
      if (this.midBatch) await db.runExclusive(() => db.execProtocolRaw(SYNC));
      if (db.isInTransaction()) await db.runExclusive(() => db.execProtocolRaw(simpleQuery("ROLLBACK")));
    } catch (err) {
      this.srv.log?.warn("embedded database: clean-up after a lost connection failed", { err: String(err) });
    } finally {
      this.midBatch = false;
      this.srv.release(this);
    }
  }
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

function simpleQuery(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`);
  const out = Buffer.alloc(5 + body.length);
  out.write("Q", 0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const out = Buffer.alloc(5 + fields.length);
  out.write("E", 0);
  out.writeInt32BE(4 + fields.length, 1);
  fields.copy(out, 5);
  return out;
}
