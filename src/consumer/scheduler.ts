import type { AdRepository, DispatchMark } from "../database/ad-repository";
import type { Logger } from "../platform/logger";
import type { ServiceMetrics } from "../platform/metrics";
import type { AdPublisher } from "../queue/queue";
import type { HeldLeases } from "./handle-ad-message";
import type { CircuitBreaker } from "../platform/circuit-breaker";

export interface SchedulerDeps {
  repo: AdRepository;
  publisher: AdPublisher;
  log: Logger;
  metrics: ServiceMetrics;
  /** This process's lease owner id, and the leases its handlers hold (for the heartbeat). */
  owner: string;
  held: HeldLeases;
  /** Providers' breakers: when one is open and its probe is due, one held item is released to probe with. */
  breakers?: CircuitBreaker[];
}

export interface SchedulerOptions {
  /** How often due work is looked for and expired leases are taken back. */
  everyMs: number;
  /** Lease length; the heartbeat renews held leases every sixth of it. */
  leaseMs: number;
  /** How long a claimed dispatch is held before another scheduler may try it. */
  holdMs: number;
  /** Work handed to the broker this long ago and still not done is dispatched again (lost in the broker). */
  sweepAfterMs: number;
}

/** At most this many ads are published per pass (the rest come on the next pass, a second later). */
const BATCH = 500;
/** Publishes in flight at once within a pass. */
const PARALLEL = 32;

/**
 * The database is the scheduler. Every `everyMs` each worker:
 * - takes back leases that ran out (their holder died) — their work becomes due for dispatch;
 * - claims the work that is due and not handed to the broker (a new ad whose intake publish
 *   failed, an attempt whose backoff has passed, a queued e-mail) and publishes it; a failed
 *   publish (broker down or blocked) costs nothing: the claim is released and retried next pass.
 * Nothing is published before it is due, and nothing is counted as an attempt here.
 * The heartbeat renews the leases of work in progress; the slow sweep re-dispatches work the
 * broker accepted and then lost. Safe with several workers: claims use SKIP LOCKED and holds.
 */
export function startScheduler(deps: SchedulerDeps, opts: SchedulerOptions) {
  let running = false;
  let brokerDown = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      for (const b of deps.breakers ?? []) if (b.probeDue()) await deps.repo.releaseHeld(b.name, 1);
      const reaped = await deps.repo.reapExpired();
      if (reaped) deps.log.warn("took back expired leases (their holder stopped renewing them)", { leases: reaped });
      for (;;) {
        const due = await deps.repo.claimDue(BATCH, opts.holdMs);
        if (!due.length) break;
        const published = await publishAll(deps, due);
        if (published < due.length) break;
        if (due.length < BATCH) break;
      }
    } catch (err) {
      deps.log.warn("scheduler pass failed; next pass soon", { err });
    } finally {
      running = false;
    }
  };

  async function publishAll(d: SchedulerDeps, due: DispatchMark[]): Promise<number> {
    const confirmed: DispatchMark[] = [];
    const failed: DispatchMark[] = [];
    let firstError: unknown = null;
    for (let i = 0; i < due.length; i += PARALLEL) {
      const chunk = due.slice(i, i + PARALLEL);
      if (firstError) {
        failed.push(...chunk);
        continue;
      }
      const results = await Promise.allSettled(chunk.map((m) => d.publisher.publishAdSubmitted(m.id)));
      results.forEach((r, j) => {
        if (r.status === "fulfilled") confirmed.push(chunk[j]!);
        else {
          failed.push(chunk[j]!);
          firstError ??= r.reason;
        }
      });
    }
    await d.repo.markDispatched(confirmed);
    if (failed.length) await d.repo.releaseDispatch(failed).catch(() => {});
    for (let i = 0; i < confirmed.length; i++) d.metrics.swept.inc();
    if (confirmed.length) d.log.info("scheduler dispatched due work", { ads: confirmed.length });
    if (firstError && !brokerDown) d.log.warn("scheduler could not publish; retrying every pass until the broker takes messages", { waiting: failed.length, err: firstError });
    if (!firstError && brokerDown) d.log.info("broker takes messages again; dispatching resumed");
    brokerDown = firstError !== null;
    return confirmed.length;
  }

  const beat = async () => {
    try {
      await deps.repo.renewLeases(deps.owner, opts.leaseMs, deps.held);
    } catch (err) {
      deps.log.warn("lease heartbeat failed", { err });
    }
  };

  const sweep = async () => {
    try {
      const ids = await deps.repo.undispatchOverdue(opts.sweepAfterMs, BATCH);
      if (ids.length) deps.log.warn("work accepted by the broker but not done in time; dispatching it again", { ads: ids.length, after_ms: opts.sweepAfterMs });
      if (ids.length) await pass();
    } catch (err) {
      deps.log.warn("sweep failed", { err });
    }
  };

  const timers = [
    setInterval(pass, opts.everyMs),
    setInterval(beat, Math.max(100, Math.floor(opts.leaseMs / 6))),
    setInterval(sweep, Math.max(1000, Math.min(30_000, Math.round(opts.sweepAfterMs / 2)))),
  ];
  const first = setTimeout(pass, 0);
  return {
    /** One pass now (tests and start-up). */
    pass,
    sweep,
    stop() {
      for (const t of timers) clearInterval(t);
      clearTimeout(first);
    },
  };
}
