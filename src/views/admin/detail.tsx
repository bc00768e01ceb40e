/**
 * One ad's page for an operator: the photo (and an earlier ad's beside it when it may be a
 * copy), the appeal note, the facts, every tag against the threshold, the actions, the e-mails,
 * the processing errors and the history.
 * (Over 300 lines because it is one page whose sections share the ad and the language; each
 * section is a small component of its own below.)
 */
import { Html } from "@kitajs/html";
import type { AdEvent, ProcessingErrorRow } from "../../database/admin-repository";
import type { AdRow, EmailRow } from "../../database/ad-repository";
import type { DecisionRule } from "../../domain/decision";
import { defaultCategory } from "../../domain/moderation";
import { categoryLabel, t, type Lang } from "../../i18n";
import { formatBytes, formatNumber } from "../../i18n/format";
import { Actor, actorHtml, ColumnHeads, ConfidenceBar, CsrfField, DateTime, EmailDelivery, Notes, ResendCell, StateBadge } from "./parts";

export interface DetailProps {
  ad: AdRow;
  events: AdEvent[];
  emails: EmailRow[];
  errors: ProcessingErrorRow[];
  rule: DecisionRule;
  /** The session's CSRF token, for the forms' `_csrf` field (no-JS submits). */
  csrf: string;
  lang: Lang;
  flash?: string;
  error?: string;
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const RULE_ACCEPTED = new RegExp(String.raw`^(.+) ${NUM} >= ${NUM}$`);
const RULE_REVIEW = new RegExp(String.raw`^(.+) ${NUM} in the review band \[${NUM}, ${NUM}\)$`);
const RULE_REJECTED = new RegExp(String.raw`^(.+) ${NUM} < ${NUM}$`);

/**
 * A reason the system wrote into the history (in English, see src/domain/moderation.ts and
 * decisionReason in src/domain/decision.ts) in the page's language, as HTML; null for any other
 * reason (one an operator typed, an error message), which is shown as it was written.
 */
export function systemReason(lang: Lang, reason: string): string | null {
  const r = t(lang).admin.reasons;
  const tag = (name: string) => `<bdi>${Html.escapeHtml(categoryLabel(lang, name))}</bdi>`;
  switch (reason) {
    case "submitted":
      return r.submitted;
    case "sent back for tagging":
      return r.sentBack;
    case "failed e-mail re-sent":
      return r.failedEmailResent;
    case "e-mail re-sent by an operator":
      return r.emailResent;
    case t("en").email.operatorRejectReason:
      return Html.escapeHtml(t(lang).email.operatorRejectReason);
  }
  let m = /^approved as "(.+)"$/.exec(reason);
  if (m) return r.approvedAs(tag(m[1]!));
  m = /^no (.+) tag$/.exec(reason);
  if (m) return r.ruleNoTag(tag(m[1]!));
  m = RULE_REVIEW.exec(reason);
  if (m) return r.ruleReview(tag(m[1]!), Number(m[2]), Number(m[3]), Number(m[4]));
  m = RULE_ACCEPTED.exec(reason);
  if (m) return r.ruleAccepted(tag(m[1]!), Number(m[2]), Number(m[3]));
  m = RULE_REJECTED.exec(reason);
  if (m) return r.ruleRejected(tag(m[1]!), Number(m[2]), Number(m[3]));
  return null;
}

/** A history or decision reason: the system's translated, anyone else's as written (in its own direction). */
function Reason({ reason, lang }: { reason: string; lang: Lang }) {
  const known = systemReason(lang, reason);
  return known !== null ? (
    <span class="reason">{known}</span>
  ) : (
    <span class="reason" dir="auto" safe>
      {reason}
    </span>
  );
}

/** One ad, everything an operator needs to decide it. Refreshes itself while the ad is in flux. */
export function AdDetail(p: DetailProps) {
  const { ad, lang } = p;
  const m = t(lang).admin;
  const d = m.detail;
  const tags = [...(ad.tags ?? [])].sort((a, b) => b.confidence - a.confidence);
  const inFlux = ad.state === "pending";
  const categories = [...new Set([defaultCategory(ad), ...tags.slice(0, 8).map((tag) => tag.name)])];
  return (
    <article
      id="detail"
      class="detail"
      {...(inFlux ? { "hx-get": `/admin/ads/${ad.id}`, "hx-trigger": "every 3s", "hx-swap": "outerMorph", "hx-select": "#detail" } : {})}
    >
      <p class="back">
        <a href={`/admin?state=${ad.state}`}>{d.back}</a>
      </p>
      <header class="detail-head">
        <h1>
          {d.heading}{" "}
          <code dir="ltr" safe>
            {ad.id}
          </code>
        </h1>
        <StateBadge state={ad.state} lang={lang} />
      </header>
      <Notes flash={p.flash} error={p.error} />
      {ad.appeal_note ? (
        <section class="appeal" aria-labelledby="appeal-h">
          <h2 id="appeal-h">{d.appealHeading}</h2>
          <blockquote dir="auto" safe>
            {ad.appeal_note}
          </blockquote>
          {ad.appealed_at ? (
            <p class="muted">
              <DateTime at={ad.appealed_at} lang={lang} />
            </p>
          ) : (
            ""
          )}
        </section>
      ) : (
        ""
      )}
      {ad.copy_of ? (
        <section class="copy-compare" aria-labelledby="copy-h">
          <h2 id="copy-h">{ad.state === "review" ? d.possibleCopyHeading : d.sameAsHeading}</h2>
          <div class="side-by-side">
            <figure>
              <img src={`/admin/ads/${ad.id}/image`} alt={d.photoAlt} />
              <figcaption>{d.thisAd}</figcaption>
            </figure>
            <figure>
              <img src={`/admin/ads/${ad.copy_of}/image`} alt={d.photoAlt} />
              <figcaption>
                <a href={`/admin/ads/${ad.copy_of}`}>
                  {d.earlierAd}{" "}
                  <code dir="ltr" safe>
                    {ad.copy_of}
                  </code>
                </a>
              </figcaption>
            </figure>
          </div>
        </section>
      ) : (
        ""
      )}
      <div class="detail-grid">
        <figure class="photo">
          <img src={`/admin/ads/${ad.id}/image`} alt={d.photoAlt} />
          <figcaption>
            <bdi dir="ltr" safe>
              {ad.image_content_type}
            </bdi>{" "}
            · {formatBytes(lang, ad.image_bytes)}
          </figcaption>
        </figure>
        <section class="facts">
          <h2>{d.factsHeading}</h2>
          <dl>
            <dt>{d.description}</dt>
            <dd class="description" dir="auto" safe>
              {ad.description}
            </dd>
            <dt>{d.poster}</dt>
            <dd dir="ltr" class="email" safe>
              {ad.email}
            </dd>
            <dt>{d.submitted}</dt>
            <dd>
              <DateTime at={ad.created_at} lang={lang} />
            </dd>
            <dt>{d.decision}</dt>
            <dd>
              {ad.decided_at ? (
                <>
                  <StateBadge state={ad.state} lang={lang} />
                  {ad.category ? <> {d.decidedAs(`<strong>${Html.escapeHtml(categoryLabel(lang, ad.category))}</strong>`)}</> : ""} {d.decidedBy(actorHtml(lang, ad.decided_by ?? ""))}{" "}
                  <DateTime at={ad.decided_at} lang={lang} />
                  {ad.decision_reason ? (
                    <div class="muted">
                      <Reason reason={ad.decision_reason} lang={lang} />
                    </div>
                  ) : (
                    ""
                  )}
                </>
              ) : (
                <span class="muted">
                  {d.notDecided}
                  {ad.state === "review" ? ` (${ad.appeal_note ? d.heldForAppeal : ad.copy_of ? d.heldForCopy : d.heldForHuman})` : ""}
                </span>
              )}
            </dd>
            <dt>{d.attempts}</dt>
            <dd>{formatNumber(lang, ad.attempts)}</dd>
            {ad.last_error ? (
              <>
                <dt>{d.lastError}</dt>
                <dd class="error-text" dir="auto" safe>
                  {ad.last_error}
                </dd>
              </>
            ) : (
              ""
            )}
          </dl>
        </section>
      </div>

      <section class="actions" aria-labelledby="actions-h">
        <h2 id="actions-h">{d.actions}</h2>
        <form method="post" action={`/admin/ads/${ad.id}/approve`} hx-post={`/admin/ads/${ad.id}/approve`} hx-target="#detail" hx-swap="outerHTML" class="action">
          <CsrfField csrf={p.csrf} />
          <label for="category">{d.category}</label>
          <input id="category" name="category" list="category-options" dir="auto" value={ad.state === "accepted" && ad.category ? ad.category : defaultCategory(ad)} required maxlength="60" />
          <datalist id="category-options">
            {categories.map((c) => (
              <option value={c} label={categoryLabel(lang, c)} />
            ))}
          </datalist>
          <button type="submit">{d.approve}</button>
        </form>
        <form method="post" action={`/admin/ads/${ad.id}/reject`} hx-post={`/admin/ads/${ad.id}/reject`} hx-target="#detail" hx-swap="outerHTML" class="action">
          <CsrfField csrf={p.csrf} />
          <label for="reason">{d.rejectReasonLabel}</label>
          <input id="reason" name="reason" dir="auto" maxlength="500" placeholder={d.rejectReasonPlaceholder} />
          <button type="submit" class="danger">
            {d.reject}
          </button>
        </form>
        <form method="post" action={`/admin/ads/${ad.id}/reprocess`} hx-post={`/admin/ads/${ad.id}/reprocess`} hx-target="#detail" hx-swap="outerHTML" class="action">
          <CsrfField csrf={p.csrf} />
          <span class="muted">{d.reprocessHint}</span>
          <button type="submit">{d.reprocess}</button>
        </form>
      </section>

      <section aria-labelledby="tags-h">
        <h2 id="tags-h">{d.tags}</h2>
        {tags.length ? (
          <div class="bars">
            <p class="muted">{d.thresholdNote(p.rule.minConfidence, `<strong><bdi>${Html.escapeHtml(categoryLabel(lang, p.rule.vehicleTag))}</bdi></strong>`)}</p>
            {tags.map((tag) => (
              <ConfidenceBar tag={tag} lang={lang} minConfidence={p.rule.minConfidence} highlight={tag.name.toLowerCase() === p.rule.vehicleTag.toLowerCase()} />
            ))}
          </div>
        ) : (
          <p class="muted">{d.notTagged}</p>
        )}
      </section>

      <section aria-labelledby="emails-h">
        <h2 id="emails-h">{d.emails}</h2>
        {p.emails.length ? (
          <table class="plain">
            <ColumnHeads cols={[d.emailColumns.kind, d.emailColumns.subject, d.emailColumns.status, d.emailColumns.providerId, d.emailColumns.attempts, d.emailColumns.sent]} actions={d.emailColumns.actions} />
            <tbody>
              {p.emails.map((e) => (
                <tr>
                  <td safe>{(m.emailKinds as Readonly<Record<string, string>>)[e.kind] ?? e.kind}</td>
                  <td dir="auto" safe>
                    {e.subject}
                  </td>
                  <EmailDelivery email={e} lang={lang} />
                  <td class="num">{formatNumber(lang, e.attempts)}</td>
                  <td>
                    <DateTime at={e.sent_at} lang={lang} />
                  </td>
                  <ResendCell email={e} csrf={p.csrf} lang={lang} from="ad" />
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">{d.noEmail}</p>
        )}
      </section>

      <section aria-labelledby="history-h">
        <h2 id="history-h">{d.history}</h2>
        <ol class="history">
          {p.events.map((e) => (
            <li>
              <DateTime at={e.created_at} lang={lang} /> · <Actor name={e.actor} lang={lang} />:{" "}
              {e.from_state ? <StateBadge state={e.from_state} lang={lang} /> : d.historyNew} <span class="arrow" aria-hidden="true">→</span>{" "}
              <StateBadge state={e.to_state} lang={lang} />
              {e.reason ? (
                <span class="muted">
                  {" — "}
                  <Reason reason={e.reason} lang={lang} />
                </span>
              ) : (
                ""
              )}
            </li>
          ))}
        </ol>
      </section>

      {p.errors.length ? (
        <section aria-labelledby="errors-h">
          <h2 id="errors-h">{d.processingErrors}</h2>
          <table class="plain">
            <tbody>
              {p.errors.map((e) => (
                <tr>
                  <td>
                    <DateTime at={e.created_at} lang={lang} />
                  </td>
                  <td>
                    <Provider name={e.provider} lang={lang} />
                  </td>
                  <td>
                    <code dir="ltr" safe>
                      {e.reason}
                    </code>
                  </td>
                  <td>{e.transient ? d.transient : d.permanent}</td>
                  <td class="error-text" dir="auto" safe>
                    {e.message}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : (
        ""
      )}
    </article>
  );
}

/** The system a processing error came from: translated when known, else its name as recorded. */
export function Provider({ name, lang }: { name: string; lang: Lang }) {
  const known = t(lang).admin.providers as Readonly<Record<string, string>>;
  return Object.hasOwn(known, name) ? <span>{known[name]!}</span> : <bdi dir="ltr" safe>{name}</bdi>;
}
