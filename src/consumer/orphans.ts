/**
 * Orphan images: intake stores the image first and inserts the row second, so a crash (or a
 * failed insert whose clean-up also failed) between the two leaves an object that no row refers
 * to. Nobody was told the ad exists (the 201 comes after the row), so such an object is garbage.
 *
 * The collector pages through the objects under `ads/`, keeps those old enough that their row,
 * if one were coming, would long have been inserted (`olderThanMs`, default 1 h: the insert
 * follows the put within DATABASE_TIMEOUT), asks the database which of their ids have a row, and
 * deletes the rest. Age is judged both by the object's last-modified time and by the creation
 * time inside the UUIDv7 id, so neither a storage clock nor an API host's clock running ahead
 * can get a fresh object deleted. Only keys shaped like ours (`ads/<uuid>.<ext>`) are touched.
 *
 * Safe with several workers and idempotent: a row is never deleted here, deleting a missing
 * object is not an error, and two collectors racing over the same orphan both succeed. When the
 * database lookup fails, nothing in that batch is deleted (doubt keeps the object).
 */
import type { Logger } from "../platform/logger";
import type { ImageStorage } from "../storage/storage";

/** Objects younger than this are never collected. */
export const DEFAULT_ORPHAN_AGE_MS = 60 * 60 * 1000;
/** How often the background collector runs (each run with ±10 % jitter). */
export const DEFAULT_ORPHAN_EVERY_MS = 15 * 60 * 1000;
/** Objects listed, and ids looked up, per batch. */
export const DEFAULT_ORPHAN_BATCH = 500;
/** Deletions in flight at once. */
const DELETE_CONCURRENCY = 8;

const PREFIX = "ads/";
const KEY = /^ads\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[a-z0-9]{1,5}$/;

export interface OrphanDeps {
  storage: ImageStorage;
  /** Of these ad ids, the ones that have a row in `ads` (e.g. `select id from ads where id = any($1)`). */
  existingIds: (ids: string[]) => Promise<Set<string>>;
  log: Logger;
  /** Objects listed and ids looked up per batch (default 500). */
  batchSize?: number;
  /** The clock (tests move it forward). */
  now?: () => number;
}

export interface OrphanReport {
  /** Objects listed under `ads/`. */
  scanned: number;
  /** Old enough, ours, and looked up. */
  checked: number;
  /** Orphans deleted. */
  deleted: number;
  /** Orphans whose deletion failed (tried again next run). */
  failed: number;
}

/** The creation time (ms) inside a UUIDv7; null for other versions. */
export function uuidV7Time(id: string): number | null {
  if (id[14] !== "7") return null;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** One pass over the bucket: deletes the images under `ads/` older than `olderThanMs` whose ad has no row. */
export async function collectOrphans(deps: OrphanDeps, olderThanMs = DEFAULT_ORPHAN_AGE_MS): Promise<OrphanReport> {
  const cutoff = (deps.now ?? Date.now)() - olderThanMs;
  const limit = deps.batchSize ?? DEFAULT_ORPHAN_BATCH;
  const report: OrphanReport = { scanned: 0, checked: 0, deleted: 0, failed: 0 };
  let cursor: string | null = null;
  do {
    const page = await deps.storage.list(PREFIX, { cursor, limit });
    cursor = page.cursor;
    report.scanned += page.objects.length;
    const candidates: Array<{ key: string; id: string }> = [];
    for (const obj of page.objects) {
      const m = KEY.exec(obj.key);
      if (!m) continue; // not an image intake wrote
      const id = m[1]!;
      if (obj.lastModified.getTime() > cutoff) continue;
      const created = uuidV7Time(id);
      if (created !== null && created > cutoff) continue;
      candidates.push({ key: obj.key, id });
    }
    if (candidates.length === 0) continue;
    report.checked += candidates.length;
    const existing = await deps.existingIds([...new Set(candidates.map((c) => c.id))]);
    const known = new Set([...existing].map((id) => id.toLowerCase()));
    const orphans = candidates.filter((c) => !known.has(c.id));
    for (let i = 0; i < orphans.length; i += DELETE_CONCURRENCY) {
      await Promise.all(
        orphans.slice(i, i + DELETE_CONCURRENCY).map(async ({ key }) => {
          try {
            await deps.storage.delete(key);
            report.deleted++;
            deps.log.info("orphan image deleted", { key });
          } catch (err) {
            report.failed++;
            deps.log.warn("orphan image could not be deleted; next run tries again", { key, err });
          }
        }),
      );
    }
  } while (cursor);
  if (report.deleted > 0 || report.failed > 0) deps.log.info("orphan images collected", { ...report });
  else deps.log.debug("no orphan images", { ...report });
  return report;
}

export interface OrphanCollector {
  /** Runs one pass now (or joins the one running) and returns its report; errors are thrown. */
  tick(): Promise<OrphanReport>;
  /** Stops the schedule and waits for a running pass to end. */
  stop(): Promise<void>;
}

/**
 * Runs `collectOrphans` every `everyMs` (±10 % jitter, so several workers spread out), one pass
 * at a time, until stopped. A failed pass is logged and the next one runs on schedule. The timer
 * does not keep the process alive.
 */
export function startOrphanCollector(deps: OrphanDeps, everyMs = DEFAULT_ORPHAN_EVERY_MS, olderThanMs = DEFAULT_ORPHAN_AGE_MS): OrphanCollector {
  let running: Promise<OrphanReport> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const tick = (): Promise<OrphanReport> => {
    running ??= collectOrphans(deps, olderThanMs).finally(() => {
      running = null;
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      async () => {
        try {
          await tick();
        } catch (err) {
          deps.log.warn("orphan image collection failed; next run on schedule", { err });
        }
        schedule();
      },
      everyMs * (0.9 + 0.2 * Math.random()),
    );
    (timer as { unref?: () => void }).unref?.();
  };
  schedule();

  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
