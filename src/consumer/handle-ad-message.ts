import type { AdRepository, AdRow, EmailRow, ErrorFacts } from "../services/ad-repository";
import { decideFromTags, type DecisionRule } from "../services/decision";
import { describeError, DependencyError, isTransient } from "../services/errors";
import type { Failpoints } from "../services/failpoints";
import type { Logger } from "../services/logger";
import type { ServiceMetrics } from "../services/metrics";
import type { Mailer } from "../services/mailer";
import { acceptedEmail, rejectedEmail } from "../services/notifications";
import type { AdMessage, Outcome } from "../services/queue";
import type { ImageStorage } from "../services/storage";
import type { ImageTagger } from "../services/tagger";
import { isAdId } from "../services/validation";

export interface HandlerDeps {
  repo: AdRepository;
  storage: ImageStorage;
  tagger: ImageTagger;
  mailer: Mailer;
  log: Logger;
  rule: DecisionRule;
  publicBaseUrl: string;
  /** Backoff before attempt n+1; its length is the retry budget. */
  retryDelaysMs: number[];
  /** How long a claimed e-mail stays reserved for one sender (longer than a send can take). */
  emailLeaseMs: number;
  metrics: ServiceMetrics;
  failpoint?: Failpoints;
}

/** An e-mail send failed; `attempt` is that e-mail's attempt count, for the backoff. */
class EmailStepError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly attempt: number,
  ) {
    super(describeError(cause));
  }
}

/**
 * Processes one delivery of an ad id: tag and decide it if it is still pending, then send any
 * e-mail the decision queued. Safe to run any number of times for the same id: the decision is a
 * conditional update and e-mails are leased, so a redelivery neither decides nor e-mails twice.
 * Never throws: the outcome tells the queue to ack, retry later, or dead-letter.
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
  let ad: AdRow | null = null;
  try {
    ad = await deps.repo.get(msg.adId);
    if (!ad) {
      log.warn("message for an unknown ad dropped");
      return { kind: "done" };
    }
    // The decision comes back with its e-mail already leased to us (no second round trip).
    let claimed: EmailRow[] | null = null;
    if (ad.state === "pending") claimed = await decide(deps, ad, log);
    else log.debug("ad already decided; skipping tagging", { state: ad.state });
    if (ad.state !== "failed") await deliverEmails(deps, msg.adId, log, claimed);
    return { kind: "done" };
  } catch (err) {
    return onFailure(deps, msg, ad, err, log);
  }
}

async function decide(deps: HandlerDeps, ad: AdRow, log: Logger): Promise<EmailRow[] | null> {
  const started = performance.now();
  const obj = await deps.storage.get(ad.image_key);
  if (!obj) throw new DependencyError("storage", "the ad's image is missing from storage", false, "missing");
  await deps.failpoint?.("worker.after-download");
  const tags = await deps.tagger.tag(obj.bytes, ad.image_content_type);
  await deps.failpoint?.("worker.after-tagging");
  const d = decideFromTags(tags, deps.rule);
  const top = [...tags].sort((a, b) => b.confidence - a.confidence).slice(0, 3);
  const { won, email } = await deps.repo.decideAndClaim(ad.id, {
    state: d.state,
    category: d.category,
    tags,
    actor: "auto",
    reason:
      d.state === "accepted"
        ? `${deps.rule.vehicleTag} ${d.vehicleConfidence.toFixed(1)} >= ${deps.rule.minConfidence}`
        : d.vehicleConfidence === null
          ? `no ${deps.rule.vehicleTag} tag`
          : d.state === "review"
            ? `${deps.rule.vehicleTag} ${d.vehicleConfidence.toFixed(1)} in the review band [${deps.rule.reviewMinConfidence}, ${deps.rule.minConfidence})`
            : `${deps.rule.vehicleTag} ${d.vehicleConfidence.toFixed(1)} < ${deps.rule.minConfidence}`,
    email: d.state === "accepted" ? acceptedEmail(ad, d.category, deps.publicBaseUrl) : d.state === "rejected" ? rejectedEmail(ad) : null,
  }, deps.emailLeaseMs);
  await deps.failpoint?.("worker.after-decision");
  const ms = Math.round(performance.now() - started);
  if (won) deps.metrics.decided.inc({ outcome: d.state, by: "auto" });
  if (won) log.info("ad decided", { state: d.state, category: d.category, vehicle_confidence: d.vehicleConfidence, top_tags: top, ms });
  else log.info("ad was decided elsewhere meanwhile; keeping that decision", { ms });
  // Lost the race: whoever decided queued the e-mail; claim it the usual way.
  return won ? (email ? [email] : []) : null;
}

async function deliverEmails(deps: HandlerDeps, adId: string, log: Logger, preclaimed: EmailRow[] | null): Promise<void> {
  const claimed = preclaimed ?? (await deps.repo.claimEmails(adId, deps.emailLeaseMs));
  for (const e of claimed) {
    let providerId: string;
    try {
      ({ providerId } = await deps.mailer.send({ to: e.to_address, subject: e.subject, text: e.body_text, html: e.body_html, adId }));
    } catch (err) {
      const final = !isTransient(err) || e.attempts > deps.retryDelaysMs.length;
      await deps.repo.markEmailError(e.id, adId, factsOf(err), final);
      deps.metrics.emailsFailed.inc({ final: String(final) });
      if (final) {
        log.error("e-mail failed for good", { email_id: e.id, attempts: e.attempts, err });
        continue;
      }
      throw new EmailStepError(err, e.attempts);
    }
    // The one duplicate window: a crash between the provider's 200 and this commit sends again.
    await deps.failpoint?.("worker.after-email");
    await deps.repo.markEmailSent(e.id, providerId);
    deps.metrics.emailsSent.inc({ kind: e.kind });
    log.info("e-mail sent", { email_id: e.id, kind: e.kind, provider_id: providerId });
  }
}

async function onFailure(deps: HandlerDeps, msg: AdMessage, ad: AdRow | null, err: unknown, log: Logger): Promise<Outcome> {
  const cause = err instanceof EmailStepError ? err.cause : err;
  const reason = describeError(cause);
  const budget = deps.retryDelaysMs.length;
  const provider = cause instanceof DependencyError ? cause.dependency : "internal";
  if (err instanceof EmailStepError) {
    const delayMs = deps.retryDelaysMs[Math.min(err.attempt - 1, budget - 1)]!;
    deps.metrics.retries.inc({ provider, reason: reasonOf(cause) });
    log.warn("e-mail will be retried", { provider, attempt: err.attempt, delay_ms: delayMs, err: cause });
    return { kind: "retry", delayMs };
  }
  if (!ad) {
    // The ad could not even be loaded (the database is down): keep the message, try later.
    const delayMs = deps.retryDelaysMs[Math.min(msg.retries, budget - 1)]!;
    log.warn("could not load the ad; will retry", { provider, delay_ms: delayMs, err: cause });
    return { kind: "retry", delayMs };
  }
  // The row's attempt count is the truth (a swept, republished message starts again at 0 retries).
  const attempt = Math.max(ad?.attempts ?? 0, msg.retries) + 1;
  try {
    if (isTransient(cause) && attempt <= budget) {
      const delayMs = deps.retryDelaysMs[attempt - 1]!;
      await deps.repo.recordAttemptFailure(ad.id, factsOf(cause), delayMs);
      deps.metrics.retries.inc({ provider, reason: reasonOf(cause) });
      log.warn("processing failed; will retry", { provider, attempt, delay_ms: delayMs, err: cause });
      return { kind: "retry", delayMs };
    }
    if (await deps.repo.markFailed(ad.id, factsOf(cause))) deps.metrics.failed.inc();
    log.error("processing failed for good; ad marked failed", { provider, attempt, transient: isTransient(cause), err: cause });
    return { kind: "dead", reason };
  } catch (bookkeeping) {
    // Could not even record the failure (the database is down): try again after the first delay.
    log.error("could not record a processing failure", { err: bookkeeping, original: cause });
    return { kind: "retry", delayMs: deps.retryDelaysMs[Math.min(msg.retries, budget - 1)]! };
  }
}

function factsOf(err: unknown): ErrorFacts {
  return {
    provider: err instanceof DependencyError ? err.dependency : "internal",
    reason: reasonOf(err),
    transient: isTransient(err),
    message: describeError(err),
  };
}

function reasonOf(err: unknown): string {
  return err instanceof DependencyError ? err.reason : "error";
}
