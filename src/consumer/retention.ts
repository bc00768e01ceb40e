/**
 * The daily job (RETENTION_DAYS, default 180): what the service keeps about posters, and for how
 * long.
 *
 *  - A decided ad's e-mail address (on the ad and on its e-mails) is replaced by the poster's
 *    keyed one-way hash once the ad was decided RETENTION_DAYS ago. The ad itself, its history
 *    and the e-mails' text stay (the public page and the audit need them).
 *  - A withdrawn ad's photo and thumbnail are deleted at withdrawal; any the storage refused
 *    then are deleted here. Its remaining row (kept for the audit: who, when) is deleted with
 *    its history and e-mails RETENTION_DAYS after the withdrawal.
 *
 * In batches, each one statement, idempotent (a second run, or a second worker copy running at
 * the same time, changes nothing more); first run a minute after the worker starts, then daily
 * (an hour later when a run fails).
 */
import type { PosterRepository } from "../database/poster-repository";
import { deleteImages } from "../domain/poster";
import type { PosterKeys } from "../domain/poster-keys";
import type { Logger } from "../platform/logger";
import type { ImageStorage } from "../storage/storage";

export const RETENTION_EVERY_MS = 24 * 60 * 60 * 1000;
const FIRST_RUN_MS = 60_000;
const RETRY_MS = 60 * 60 * 1000;
const BATCH = 500;

export interface RetentionDeps {
  posters: PosterRepository;
  storage: ImageStorage;
  keys: PosterKeys;
  log: Logger;
  retentionDays: number;
  batchSize?: number;
}

export interface RetentionReport {
  redacted: number;
  imagesDeleted: number;
  purged: number;
}

/** One run: every batch until nothing is left to do. */
export async function runRetention(deps: RetentionDeps): Promise<RetentionReport> {
  const batch = deps.batchSize ?? BATCH;
  const report: RetentionReport = { redacted: 0, imagesDeleted: 0, purged: 0 };
  for (;;) {
    const rows = await deps.posters.addressesToRedact(deps.retentionDays, batch);
    if (!rows.length) break;
    report.redacted += await deps.posters.redactEmails(rows.map((r) => ({ id: r.id, posterHash: r.poster_hash ?? deps.keys.posterHash(r.email) })));
    if (rows.length < batch) break;
  }
  for (;;) {
    const rows = await deps.posters.withdrawnWithImages(batch);
    let done = 0;
    for (const r of rows) if (await deleteImages(deps, r.id, { imageKey: r.image_key, thumbKey: r.thumb_key })) done++;
    report.imagesDeleted += done;
    if (rows.length < batch || done === 0) break;
  }
  for (;;) {
    const n = await deps.posters.purgeWithdrawn(deps.retentionDays, batch);
    report.purged += n;
    if (n < batch) break;
  }
  return report;
}

/** Runs the job a minute after start and then daily, until stopped. */
export function startRetention(deps: RetentionDeps, opts: { everyMs?: number; firstInMs?: number } = {}): { stop(): Promise<void> } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const schedule = (ms: number) => {
    if (!stopped) timer = setTimeout(tick, ms);
  };
  const tick = () => {
    running = runRetention(deps).then(
      (r) => {
        if (r.redacted || r.imagesDeleted || r.purged) deps.log.info("retention run", { ...r, retention_days: deps.retentionDays });
        running = null;
        schedule(opts.everyMs ?? RETENTION_EVERY_MS);
      },
      (err) => {
        deps.log.warn("retention run failed; trying again in an hour", { err });
        running = null;
        schedule(RETRY_MS);
      },
    );
  };
  schedule(opts.firstInMs ?? FIRST_RUN_MS);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
