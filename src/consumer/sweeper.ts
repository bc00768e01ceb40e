import type { AdRepository } from "../services/ad-repository";
import type { Logger } from "../services/logger";
import type { ServiceMetrics } from "../services/metrics";
import type { AdPublisher } from "../services/queue";

/**
 * The database is the source of truth: periodically re-publish ads whose dispatch is overdue
 * (a lost publish, a broker outage at intake, a crash) and ads with an e-mail stuck unsent.
 * Safe with several workers: each claim moves the rows' due time forward under SKIP LOCKED.
 */
export function startSweeper(deps: { repo: AdRepository; publisher: AdPublisher; log: Logger; metrics: ServiceMetrics }, overdueMs: number, everyMs: number) {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const ids = await deps.repo.claimOverdue(overdueMs, 500);
      let published = 0;
      for (const id of ids) {
        try {
          await deps.publisher.publishAdSubmitted(id);
          deps.metrics.swept.inc();
          published++;
        } catch (err) {
          deps.log.warn("sweeper could not publish; will try on a later pass", { ad_id: id, err });
          break;
        }
      }
      if (ids.length) deps.log.info("sweeper re-dispatched overdue ads", { claimed: ids.length, published });
    } catch (err) {
      deps.log.warn("sweeper pass failed", { err });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(tick, everyMs);
  const first = setTimeout(tick, Math.min(everyMs, 1000));
  return {
    tick,
    stop() {
      clearInterval(timer);
      clearTimeout(first);
    },
  };
}
