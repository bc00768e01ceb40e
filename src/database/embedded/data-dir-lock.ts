/**
 * The lock on the embedded database's directory: `dir/.lock`, created with O_EXCL, holding the
 * owner's PID. A live owner (this process included) refuses with DataDirLockedError; a lock whose
 * PID is not alive (a crash, SIGKILL) is taken over.
 *
 * Why: PGlite takes no lock of its own, and two processes on one directory silently lost a write
 * (../shared/reference/embedded-postgres.md). A PID file (node:fs has no flock(2)) also lets the
 * refusal name the holder.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../platform/logger";

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

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
  }
}

/**
 * Takes `dir/.lock` (`dir` must exist) and returns its release: idempotent, and it removes the
 * file only while it still holds this process's PID. Throws DataDirLockedError if a live process
 * (or this one) holds it.
 */
export function acquireLock(dir: string, log?: Logger): () => void {
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
