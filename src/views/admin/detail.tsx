import { Html } from "@kitajs/html";
import type { AdEvent, ProcessingErrorRow } from "../../database/admin-repository";
import type { AdRow, EmailRow } from "../../database/ad-repository";
import type { DecisionRule } from "../../domain/decision";
import { defaultCategory } from "../../domain/moderation";
import { ColumnHeads, ConfidenceBar, CsrfField, EmailDelivery, ResendCell, StateBadge, Time } from "./parts";

export interface DetailProps {
  ad: AdRow;
  events: AdEvent[];
  emails: EmailRow[];
  errors: ProcessingErrorRow[];
  rule: DecisionRule;
  /** The session's CSRF token, for the forms' `_csrf` field (no-JS submits). */
  csrf: string;
  flash?: string;
  error?: string;
}

/** One ad, everything an operator needs to decide it. Refreshes itself while the ad is in flux. */
export function AdDetail(p: DetailProps) {
  const { ad } = p;
  const tags = [...(ad.tags ?? [])].sort((a, b) => b.confidence - a.confidence);
  const inFlux = ad.state === "pending";
  const categories = [...new Set([defaultCategory(ad), ...tags.slice(0, 8).map((t) => t.name)])];
  return (
    <article
      id="detail"
      class="detail"
      {...(inFlux ? { "hx-get": `/admin/ads/${ad.id}`, "hx-trigger": "every 3s", "hx-swap": "outerMorph", "hx-select": "#detail" } : {})}
    >
      <p class="back">
        <a href={`/admin?state=${ad.state}`}>← Back to the list</a>
      </p>
      <header class="detail-head">
        <h1>
          Ad <code safe>{ad.id}</code>
        </h1>
        <StateBadge state={ad.state} />
      </header>
      {p.flash ? (
        <p class="flash" role="status" safe>
          {p.flash}
        </p>
      ) : (
        ""
      )}
      {p.error ? (
        <p class="error" role="alert" safe>
          {p.error}
        </p>
      ) : (
        ""
      )}
      <div class="detail-grid">
        <figure class="photo">
          <img src={`/admin/ads/${ad.id}/image`} alt="The ad's photo" />
          <figcaption>
            {ad.image_content_type} · {(ad.image_bytes / 1024).toFixed(0)} KiB
          </figcaption>
        </figure>
        <section class="facts">
          <h2>Ad</h2>
          <dl>
            <dt>Description</dt>
            <dd class="description" safe>
              {ad.description}
            </dd>
            <dt>Poster</dt>
            <dd safe>{ad.email}</dd>
            <dt>Submitted</dt>
            <dd>
              <Time at={ad.created_at} />
            </dd>
            <dt>Decision</dt>
            <dd>
              {ad.decided_at ? (
                <>
                  <StateBadge state={ad.state} />
                  {ad.category ? (
                    <>
                      {" "}
                      as <strong safe>{ad.category}</strong>
                    </>
                  ) : (
                    ""
                  )}{" "}
                  by <strong safe>{ad.decided_by ?? ""}</strong> <Time at={ad.decided_at} />
                  {ad.decision_reason ? (
                    <div class="muted" safe>
                      {ad.decision_reason}
                    </div>
                  ) : (
                    ""
                  )}
                </>
              ) : (
                <span class="muted">not decided yet{ad.state === "review" ? " (held for a human: the vehicle tag is in the review band)" : ""}</span>
              )}
            </dd>
            <dt>Attempts</dt>
            <dd>{String(ad.attempts)}</dd>
            {ad.last_error ? (
              <>
                <dt>Last error</dt>
                <dd class="error-text" safe>
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
        <h2 id="actions-h">Actions</h2>
        <form method="post" action={`/admin/ads/${ad.id}/approve`} hx-post={`/admin/ads/${ad.id}/approve`} hx-target="#detail" hx-swap="outerHTML" class="action">
          <CsrfField csrf={p.csrf} />
          <label for="category">Category</label>
          <input id="category" name="category" list="category-options" value={ad.state === "accepted" && ad.category ? ad.category : defaultCategory(ad)} required maxlength="60" />
          <datalist id="category-options">
            {categories.map((c) => (
              <option value={c} />
            ))}
          </datalist>
          <button type="submit">Approve</button>
        </form>
        <form method="post" action={`/admin/ads/${ad.id}/reject`} hx-post={`/admin/ads/${ad.id}/reject`} hx-target="#detail" hx-swap="outerHTML" class="action">
          <CsrfField csrf={p.csrf} />
          <label for="reason">Reason (sent to the poster)</label>
          <input id="reason" name="reason" maxlength="500" placeholder="The photo does not show a vehicle." />
          <button type="submit" class="danger">
            Reject
          </button>
        </form>
        <form method="post" action={`/admin/ads/${ad.id}/reprocess`} hx-post={`/admin/ads/${ad.id}/reprocess`} hx-target="#detail" hx-swap="outerHTML" class="action">
          <CsrfField csrf={p.csrf} />
          <span class="muted">Tag the photo again and let the rule decide.</span>
          <button type="submit">Reprocess</button>
        </form>
      </section>

      <section aria-labelledby="tags-h">
        <h2 id="tags-h">Tags</h2>
        {tags.length ? (
          <div class="bars">
            <p class="muted">
              The line marks the acceptance threshold ({String(p.rule.minConfidence)}) for the <strong safe>{p.rule.vehicleTag}</strong> tag.
            </p>
            {tags.map((t) => (
              <ConfidenceBar tag={t} minConfidence={p.rule.minConfidence} highlight={t.name.toLowerCase() === p.rule.vehicleTag.toLowerCase()} />
            ))}
          </div>
        ) : (
          <p class="muted">Not tagged yet.</p>
        )}
      </section>

      <section aria-labelledby="emails-h">
        <h2 id="emails-h">E-mails</h2>
        {p.emails.length ? (
          <table class="plain">
            <ColumnHeads cols={["Kind", "Subject", "Status", "Provider id", "Attempts", "Sent"]} actions />
            <tbody>
              {p.emails.map((e) => (
                <tr>
                  <td safe>{e.kind}</td>
                  <td safe>{e.subject}</td>
                  <EmailDelivery email={e} />
                  <td class="num">{String(e.attempts)}</td>
                  <td>
                    <Time at={e.sent_at} />
                  </td>
                  <ResendCell email={e} csrf={p.csrf} from="ad" />
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No e-mail yet.</p>
        )}
      </section>

      <section aria-labelledby="history-h">
        <h2 id="history-h">History</h2>
        <ol class="history">
          {p.events.map((e) => (
            <li>
              <Time at={e.created_at} /> · <strong safe>{e.actor}</strong>: {e.from_state ? <StateBadge state={e.from_state} /> : "new"} → <StateBadge state={e.to_state} />
              {e.reason ? (
                <span class="muted" safe>
                  {" — " + e.reason}
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
          <h2 id="errors-h">Processing errors</h2>
          <table class="plain">
            <tbody>
              {p.errors.map((e) => (
                <tr>
                  <td>
                    <Time at={e.created_at} />
                  </td>
                  <td safe>{e.provider}</td>
                  <td safe>{e.reason}</td>
                  <td>{e.transient ? "transient" : "permanent"}</td>
                  <td class="error-text" safe>
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
