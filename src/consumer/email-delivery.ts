/**
 * Sending an ad's due e-mails: claim them (leased to this process), send each through the
 * mailer's circuit breaker, and record the outcome — sent, held while the mailer is down (no
 * attempt counted), retried on its schedule, or failed for good.
 */
import type { EmailRow } from "../domain/ad";
import { BreakerOpen } from "../platform/circuit-breaker";
import { isTransient } from "../domain/errors";
import type { Logger } from "../platform/logger";
import type { HandlerDeps } from "./handle-ad-message";
import { EmailStepError, factsOf, HELD_FALLBACK_MS, withJitter } from "./failures";

export async function deliverEmails(deps: HandlerDeps, adId: string, log: Logger, preclaimed: EmailRow[] | null): Promise<void> {
  const claimed = preclaimed ?? (await deps.repo.claimEmails(adId, deps.owner, deps.leaseMs));
  for (const e of claimed) deps.held.emails.add(e.id);
  try {
    for (const e of claimed) await deliverEmail(deps, adId, e, log);
  } finally {
    for (const e of claimed) deps.held.emails.delete(e.id);
  }
}

async function deliverEmail(deps: HandlerDeps, adId: string, e: EmailRow, log: Logger): Promise<void> {
  {
    let providerId: string;
    try {
      const send = () => deps.mailer.send({ to: e.to_address, subject: e.subject, text: e.body_text, html: e.body_html, adId });
      ({ providerId } = await deps.breakers.mailer.run(send, isTransient));
    } catch (err) {
      const mailer = deps.breakers.mailer;
      if (err instanceof BreakerOpen || (mailer.isOpen && isTransient(err) && (mailer.isProbeFailure(err) || e.attempts <= deps.retryDelaysMs.length))) {
        // Refused, a failed probe (neither counts), or a counted failure that found the circuit open:
        // held until the mailer answers again, instead of waiting out (or spending) the schedule.
        const uncount = err instanceof BreakerOpen || mailer.isProbeFailure(err);
        await deps.repo.holdEmail(e.id, adId, deps.owner, HELD_FALLBACK_MS, uncount, err instanceof BreakerOpen ? undefined : factsOf(err));
        log.info("mailer circuit open; e-mail held until it answers again", { email_id: e.id, counted: !uncount });
        return;
      }
      const budget = deps.retryDelaysMs.length;
      const final = !isTransient(err) || e.attempts > budget;
      const delayMs = final ? 0 : withJitter(deps.retryDelaysMs[Math.min(e.attempts - 1, budget - 1)]!);
      await deps.repo.markEmailError(e.id, adId, deps.owner, factsOf(err), final, delayMs);
      deps.metrics.emailsFailed.inc({ final: String(final) });
      if (final) {
        log.error("e-mail failed for good", { email_id: e.id, attempts: e.attempts, err });
        return;
      }
      throw new EmailStepError(err, e.attempts);
    }
    // The one duplicate window: a crash between the provider's 200 and this commit sends again.
    await deps.failpoint?.("worker.after-email", e.subject);
    const recorded = await recordSent(deps, e.id, providerId, log);
    deps.metrics.emailsSent.inc({ kind: e.kind });
    log.info("e-mail sent", { email_id: e.id, kind: e.kind, provider_id: providerId, recorded });
  }
}

/**
 * Records a send the provider accepted. The database may be briefly unreachable right then:
 * retrying here (while the heartbeat keeps the lease) is what keeps the e-mail from going out
 * twice. False when the lease was lost meanwhile (another worker may send it again).
 */
async function recordSent(deps: HandlerDeps, emailId: string, providerId: string, log: Logger): Promise<boolean> {
  const deadline = Date.now() + deps.leaseMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 4000)) {
    try {
      const ok = await deps.repo.markEmailSent(emailId, deps.owner, providerId);
      if (!ok) log.warn("e-mail sent but its lease was lost meanwhile; it may be sent again", { email_id: emailId });
      return ok;
    } catch (err) {
      if (Date.now() + wait > deadline) {
        log.error("e-mail sent but could not be recorded; it will be sent again when its lease runs out", { email_id: emailId, err });
        return false;
      }
      await Bun.sleep(wait);
    }
  }
}

