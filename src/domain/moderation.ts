import type { AdRow } from "./ad";
import type { AdminRepository } from "../database/admin-repository";
import { InputError } from "./errors";
import { t } from "../i18n";
import { charLength } from "../i18n/text";
import type { Logger } from "../platform/logger";
import type { ServiceMetrics } from "../platform/metrics";
import { acceptedEmail, rejectedEmail } from "./notifications";
import type { AdPublisher } from "../queue/queue";

export interface ModerationDeps {
  ads: AdminRepository;
  publisher: AdPublisher;
  publicBaseUrl: string;
  /** The poster's private manage page, linked from the e-mails (absent: no private link). */
  manageUrl?: (adId: string) => string;
  log: Logger;
  metrics: ServiceMetrics;
}

export type BulkAction = "approve" | "reject" | "reprocess";

const CATEGORY = /^[\p{L}\p{N} .,'&/()-]{1,60}$/u;

/** Checks an operator-chosen category (short, printable, one line). */
export function validateCategory(raw: unknown): string {
  const c = typeof raw === "string" ? raw.trim() : "";
  if (!CATEGORY.test(c)) throw new InputError("invalid", "invalid_category", "category must be 1-60 letters, digits or simple punctuation");
  return c;
}

/** Checks an operator's reason (it goes into the poster's e-mail); null when none was given. */
export function validateReason(raw: unknown): string | null {
  const r = typeof raw === "string" ? raw.trim() : "";
  if (charLength(r) > 500) throw new InputError("invalid", "invalid_reason", "reason must be at most 500 characters");
  return r || null;
}

/** The category an approval defaults to: the ad's highest-confidence tag. */
export function defaultCategory(ad: Pick<AdRow, "tags" | "category">): string {
  if (ad.category) return ad.category;
  const top = [...(ad.tags ?? [])].sort((a, b) => b.confidence - a.confidence)[0];
  return top?.name ?? "vehicle";
}

// The worker sends queued e-mails when it sees the id. The action left the ad undispatched, so a
// failed publish is only logged: the worker's scheduler publishes it once its hold has passed.
async function nudge(deps: ModerationDeps, id: string, gen: number | undefined): Promise<void> {
  try {
    await deps.publisher.publishAdSubmitted(id);
    if (gen !== undefined) await deps.ads.markDispatched([{ id, gen }]).catch(() => {});
  } catch (err) {
    deps.log.warn("publish after an operator action failed; the scheduler will dispatch it", { ad_id: id, err });
  }
}

/** Approves an ad in `category`; e-mails the poster if that changes what they were told. */
export async function approveAd(deps: ModerationDeps, id: string, category: string, actor: string): Promise<boolean> {
  const result = await deps.ads.decide(id, { state: "accepted", category }, { actor, reason: `approved as "${category}"` }, (ad) =>
    acceptedEmail(ad, category, deps),
  );
  if (!result) throw new InputError("unknown", "not_found", "No ad with this id");
  if (result.changed) {
    deps.metrics.decided.inc({ outcome: "accepted", by: "operator" });
    deps.log.info("operator approved an ad", { ad_id: id, actor, from: result.before.state, category });
  } else if (result.resent) deps.log.info("operator re-approved an ad whose e-mail had failed; re-sending it", { ad_id: id, actor });
  if (result.changed || result.resent) await nudge(deps, id, result.gen);
  return result.changed;
}

/**
 * Rejects an ad; the reason goes into the poster's e-mail. Without one the e-mail says, in the
 * poster's language, that the photo does not show a vehicle.
 */
export async function rejectAd(deps: ModerationDeps, id: string, reason: string | null, actor: string): Promise<boolean> {
  const result = await deps.ads.decide(id, { state: "rejected" }, { actor, reason: reason ?? t("en").email.operatorRejectReason }, (ad) =>
    rejectedEmail(ad, reason ?? t(ad.lang).email.operatorRejectReason, deps),
  );
  if (!result) throw new InputError("unknown", "not_found", "No ad with this id");
  if (result.changed) {
    deps.metrics.decided.inc({ outcome: "rejected", by: "operator" });
    deps.log.info("operator rejected an ad", { ad_id: id, actor, from: result.before.state });
  } else if (result.resent) deps.log.info("operator re-rejected an ad whose e-mail had failed; re-sending it", { ad_id: id, actor });
  if (result.changed || result.resent) await nudge(deps, id, result.gen);
  return result.changed;
}

/** Sends an ad back to automatic tagging with a fresh retry budget. */
export async function reprocessAd(deps: ModerationDeps, id: string, actor: string): Promise<void> {
  const gen = await deps.ads.reprocess(id, { actor, reason: "sent back for tagging" });
  if (gen === null) throw new InputError("unknown", "not_found", "No ad with this id");
  deps.log.info("operator re-queued an ad", { ad_id: id, actor });
  await nudge(deps, id, gen);
}

/** Applies one action to many ads; returns how many changed. Unknown ids are skipped. */
export async function bulkAction(deps: ModerationDeps, ids: string[], action: BulkAction, reason: string | null, actor: string): Promise<number> {
  let changed = 0;
  for (const id of ids) {
    try {
      if (action === "reprocess") {
        await reprocessAd(deps, id, actor);
        changed++;
      } else if (action === "reject") {
        if (await rejectAd(deps, id, reason, actor)) changed++;
      } else {
        const d = await deps.ads.detail(id);
        if (d && (await approveAd(deps, id, defaultCategory(d.ad), actor))) changed++;
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
    }
  }
  return changed;
}

/**
 * Queues a failed e-mail again with a fresh attempt budget (the dashboard's "Resend" action).
 * Returns false when the e-mail is unknown or not failed (a double click changes nothing).
 */
export async function resendEmail(deps: ModerationDeps, emailId: string, actor: string): Promise<boolean> {
  const r = await deps.ads.resendEmail(emailId, { actor, reason: "e-mail re-sent by an operator" });
  if (!r) return false;
  deps.log.info("operator re-sent a failed e-mail", { email_id: emailId, ad_id: r.adId, actor });
  await nudge(deps, r.adId, r.gen);
  return true;
}
