import type { AdRepository, AdRow, EmailRow, ErrorFacts } from "../database/ad-repository";
import { decideFromTags, decisionEmail, decisionReason, withReposts, type DecisionRule } from "../domain/decision";
import { findRepost, type PhotoChecks } from "./photo-checks";
import { deliverEmails } from "./email-delivery";
import { EmailStepError, factsOf, HELD_FALLBACK_MS, reasonOf, withJitter } from "./failures";

import { BreakerOpen, type CircuitBreaker } from "../platform/circuit-breaker";
import { describeError, DependencyError, isTransient } from "../domain/errors";
import type { Failpoints } from "../platform/failpoints";
import type { Logger } from "../platform/logger";
import type { ServiceMetrics } from "../platform/metrics";
import type { Mailer } from "../mail/mailer";
import type { AdMessage, Outcome } from "../queue/queue";
import type { ImageStorage } from "../storage/storage";
import type { ImageTagger } from "../tagger/tagger";
import { isAdId } from "../domain/validation";

export { HELD_FALLBACK_MS, withJitter } from "./failures";

export interface HandlerDeps {
  repo: AdRepository;
  storage: ImageStorage;
  tagger: ImageTagger;
  mailer: Mailer;
  log: Logger;
  rule: DecisionRule;
  publicBaseUrl: string;
  /** The poster's private manage page, linked from the e-mails (absent: no private link). */
  manageUrl?: (adId: string) => string;
  /** Re-post detection (src/consumer/photo-checks.ts); absent: none. */
  photos?: PhotoChecks;
  /** Backoff before attempt n+1; its length is the retry budget. */
  retryDelaysMs: number[];
  /** Who holds the leases this handler takes (one id per process: `host:pid:random`). */
  owner: string;
  /** How long a processing or e-mail lease lasts without a heartbeat (the heartbeat renews it). */
  leaseMs: number;
  /** An ad whose processing started this many times without finishing is failed as `crashed`. */
  maxProcessingStarts: number;
  /** The leases this process's handlers hold right now: what the heartbeat renews. */
  held: HeldLeases;
  /** One circuit breaker per provider: while open, work is held instead of burning attempts. */
  breakers: { storage: CircuitBreaker; tagger: CircuitBreaker; mailer: CircuitBreaker };
  metrics: ServiceMetrics;
  failpoint?: Failpoints;
}

/** Ads and e-mails a live handler of this process is working on. */
export class HeldLeases {
  readonly ads = new Set<string>();
  readonly emails = new Set<string>();
}

/**
 * Processes one delivery of an ad id: tag and decide it if it is pending and due, then send the
 * e-mails that are due. Safe to run any number of times for the same id: processing is leased
 * and counted, the decision is a conditional update and e-mails are leased, so a redelivery
 * neither tags, decides nor e-mails twice, and nothing runs before its next attempt is due.
 * Never throws. Retries are recorded in the database (due time, undispatched), and the worker's
 * scheduler publishes them when due: the outcome is `done` unless nothing could be recorded.
 */
export async function handleAdMessage(deps: HandlerDeps, msg: AdMessage): Promise<Outcome> {
  const started = performance.now();
  const outcome = await handle(deps, msg);
  deps.metrics.processing.observe((performance.now() - started) / 1000, { result: outcome.kind });
  return outcome;
}

async function handle(deps: HandlerDeps, msg: AdMessage): Promise<Outcome> {
  const log = deps.log.child({ ad_id: msg.adId });
  if (!isAdId(msg.adId)) {
    log.error("message with a malformed ad id dead-lettered");
    return { kind: "dead", reason: "malformed ad id" };
  }
  if (deps.held.ads.has(msg.adId)) {
    log.debug("duplicate delivery of an ad this process is working on; dropped");
    return { kind: "done" };
  }
  deps.held.ads.add(msg.adId);
  try {
    return await work(deps, msg, log);
  } finally {
    deps.held.ads.delete(msg.adId);
  }
}

async function work(deps: HandlerDeps, msg: AdMessage, log: Logger): Promise<Outcome> {
  let ad: AdRow | null = null;
  try {
    // One statement on the hot path: a pending, due, unleased ad comes back leased to us. A lease
    // of this process that no live handler holds (an earlier delivery gave up) is taken back.
    ad = await deps.repo.claimProcessing(msg.adId, deps.owner, deps.leaseMs);
    let claimed: EmailRow[] | null = null;
    if (ad) {
      if (ad.processing_starts > deps.maxProcessingStarts) return await crashed(deps, ad, log);
      claimed = await decide(deps, ad, log);
    } else {
      ad = await deps.repo.get(msg.adId);
      if (!ad) {
        log.warn("message for an unknown ad dropped");
        return { kind: "done" };
      }
      // Pending but not claimable: an early duplicate, or another live process works on it. Its
      // due time and lease are in the database; the scheduler dispatches it when due.
      if (ad.state === "pending") {
        log.debug("ad not due or held by another worker; message dropped", { lease_owner: ad.lease_owner });
        return { kind: "done" };
      }
    }
    if (ad.state !== "failed") await deliverEmails(deps, msg.adId, log, claimed);
    return { kind: "done" };
  } catch (err) {
    return onFailure(deps, ad, err, log);
  }
}

async function crashed(deps: HandlerDeps, ad: AdRow, log: Logger): Promise<Outcome> {
  const starts = ad.processing_starts - 1;
  const facts: ErrorFacts = {
    provider: "worker",
    reason: "crashed",
    transient: false,
    message: `processing crashed: started ${starts} times without finishing (the process died while working on this ad)`,
  };
  if (await deps.repo.markFailed(ad.id, facts)) deps.metrics.failed.inc();
  log.error("ad failed: its processing keeps killing the worker", { starts });
  return { kind: "dead", reason: "crashed" };
}

async function decide(deps: HandlerDeps, ad: AdRow, log: Logger): Promise<EmailRow[] | null> {
  const started = performance.now();
  const obj = await deps.breakers.storage.run(() => deps.storage.get(ad.image_key), isTransient);
  if (!obj) throw new DependencyError("storage", "the ad's image is missing from storage", false, "missing");
  await deps.failpoint?.("worker.after-download", ad.description);
  // The tagger's call goes out first; the photo's hash is computed while it is in flight.
  const tagging = deps.breakers.tagger.run(() => deps.tagger.tag(obj.bytes, ad.image_content_type), isTransient);
  const reposting = deps.photos ? findRepost(deps.photos, ad, obj.bytes) : Promise.resolve(null);
  const [tags, repost] = await Promise.all([tagging, reposting]);
  await deps.failpoint?.("worker.after-tagging", ad.description);
  const d = withReposts(decideFromTags(tags, deps.rule), repost);
  const top = [...tags].sort((a, b) => b.confidence - a.confidence).slice(0, 3);
  const { won, email } = await deps.repo.decideAndClaim(ad.id, {
    state: d.state,
    category: d.category,
    tags,
    actor: "auto",
    reason: decisionReason(d, deps.rule),
    email: decisionEmail(d, ad, deps),
    copyOf: repost?.of ?? null,
  }, { owner: deps.owner, ms: deps.leaseMs });
  await deps.failpoint?.("worker.after-decision", ad.description);
  const ms = Math.round(performance.now() - started);
  if (won) deps.metrics.decided.inc({ outcome: d.state, by: "auto" });
  if (won) log.info("ad decided", { state: d.state, category: d.category, vehicle_confidence: d.vehicleConfidence, top_tags: top, repost, ms });
  else log.info("ad was decided elsewhere meanwhile; keeping that decision", { ms });
  // Lost the race: whoever decided queued the e-mail; claim it the usual way.
  return won ? (email ? [email] : []) : null;
}

async function onFailure(deps: HandlerDeps, ad: AdRow | null, err: unknown, log: Logger): Promise<Outcome> {
  const cause = err instanceof EmailStepError ? err.cause : err;
  const reason = describeError(cause);
  const budget = deps.retryDelaysMs.length;
  const provider = cause instanceof DependencyError ? cause.dependency : "internal";
  const pause = deps.retryDelaysMs[0]!;
  if (err instanceof EmailStepError) {
    deps.metrics.retries.inc({ provider, reason: reasonOf(cause) });
    log.warn("e-mail will be retried when due", { provider, attempt: err.attempt, err: cause });
    return { kind: "done" };
  }
  if (!ad || ad.state !== "pending" || ad.lease_owner !== deps.owner) {
    // Nothing was claimed (the database is down) or the failure came after the decision (sending):
    // nothing can be recorded, so the message waits and comes back. No attempt is counted.
    log.warn("could not process the ad; message returned to the queue after a pause", { provider, pause_ms: pause, err: cause });
    return { kind: "later", delayMs: pause };
  }
  if (provider === "database") {
    // Our own database failed mid-way: not the ad's fault, so no attempt is counted. The message
    // comes back after a pause and takes its own lease back (no live handler holds it then).
    log.warn("database failed while processing; message returned after a pause (no attempt counted)", { pause_ms: pause, err: cause });
    return { kind: "later", delayMs: pause };
  }
  const attempt = ad.attempts + 1;
  try {
    const breaker = provider === "tagger" || provider === "storage" ? deps.breakers[provider] : null;
    if (cause instanceof BreakerOpen || (breaker?.isOpen && isTransient(cause) && (breaker.isProbeFailure(cause) || attempt <= budget))) {
      // Refused or a failed probe: nothing counted. A counted failure that found the circuit open:
      // counted, but held until the provider answers again rather than waiting out its backoff.
      const name = cause instanceof BreakerOpen ? cause.provider : provider;
      const counted = !(cause instanceof BreakerOpen) && !breaker!.isProbeFailure(cause);
      await deps.repo.holdAd(ad.id, deps.owner, name, HELD_FALLBACK_MS, counted ? factsOf(cause) : undefined);
      if (counted) deps.metrics.retries.inc({ provider, reason: reasonOf(cause) });
      log.info("provider circuit open; ad held until it answers again", { provider: name, counted });
      return { kind: "done" };
    }
    if (isTransient(cause) && attempt <= budget) {
      const delayMs = withJitter(deps.retryDelaysMs[attempt - 1]!);
      await deps.repo.recordAttemptFailure(ad.id, factsOf(cause), delayMs);
      deps.metrics.retries.inc({ provider, reason: reasonOf(cause) });
      log.warn("processing failed; will retry when due", { provider, attempt, delay_ms: delayMs, err: cause });
      return { kind: "done" };
    }
    if (await deps.repo.markFailed(ad.id, factsOf(cause))) deps.metrics.failed.inc();
    log.error("processing failed for good; ad marked failed", { provider, attempt, transient: isTransient(cause), err: cause });
    return { kind: "dead", reason };
  } catch (bookkeeping) {
    // Could not record the failure (the database is down): the lease runs out and the scheduler
    // dispatches the ad again; meanwhile the message comes back after a pause.
    log.error("could not record a processing failure", { err: bookkeeping, original: cause });
    return { kind: "later", delayMs: pause };
  }
}

