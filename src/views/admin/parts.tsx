import { Html } from "@kitajs/html";
import type { EmailRow } from "../../database/ad-repository";
import type { Tag } from "../../tagger/tagger";

/** "3 min ago" style age. */
export function age(d: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** An ISO timestamp shown as text, with the exact time in a tooltip. */
export function Time({ at }: { at: Date | null }) {
  if (!at) return <span class="muted">–</span>;
  return (
    <time datetime={at.toISOString()} title={at.toISOString()}>
      {age(at)}
    </time>
  );
}

/** A state as a coloured badge. */
export function StateBadge({ state }: { state: string }) {
  return (
    <span class={`badge badge-${state}`} safe>
      {state}
    </span>
  );
}

/** The top tags of an ad, compactly. */
export function TopTags({ tags, n = 3 }: { tags: Tag[] | null; n?: number }) {
  if (!tags?.length) return <span class="muted">not tagged</span>;
  const top = [...tags].sort((a, b) => b.confidence - a.confidence).slice(0, n);
  return (
    <span class="tags">
      {top.map((t) => (
        <span class="tag">
          <span safe>{t.name}</span> <small>{t.confidence.toFixed(0)}</small>
        </span>
      ))}
    </span>
  );
}

/**
 * A tag's confidence as a bar against the acceptance threshold. SVG attributes rather than
 * inline styles, so the strict CSP (no inline styles) holds.
 */
export function ConfidenceBar({ tag, minConfidence, highlight }: { tag: Tag; minConfidence: number; highlight: boolean }) {
  const w = Math.max(0, Math.min(100, tag.confidence));
  return (
    <div class={highlight ? "bar-row highlight" : "bar-row"}>
      <span class="bar-label" safe>
        {tag.name}
      </span>
      <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label={`${tag.name}: ${tag.confidence.toFixed(1)} of 100`}>
        <rect x="0" y="0" width="100" height="10" class="bar-bg" />
        <rect x="0" y="0" width={String(w)} height="10" class={highlight ? (w >= minConfidence ? "bar-fill ok" : "bar-fill low") : "bar-fill"} />
        <line x1={String(minConfidence)} x2={String(minConfidence)} y1="0" y2="10" class="bar-threshold" />
      </svg>
      <span class="bar-value">{tag.confidence.toFixed(1)}</span>
    </div>
  );
}

/**
 * The session's CSRF token as a form field, for the forms to work without JavaScript (htmx
 * requests send it as the X-CSRF-Token header too). Every `<form method="post">` needs one.
 */
/** A table's column headers; with `actions`, a last column (labelled for screen readers only) for each row's actions. */
export function ColumnHeads({ cols, actions = false }: { cols: string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {cols.map((c) => (
          <th scope="col" safe>
            {c}
          </th>
        ))}
        {actions ? (
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        ) : (
          ""
        )}
      </tr>
    </thead>
  );
}

export function CsrfField({ csrf }: { csrf: string }) {
  return <input type="hidden" name="_csrf" value={csrf} />;
}

/**
 * A table cell with a "Resend" button for a failed e-mail (empty otherwise). `from` says where the
 * answer goes: the ad's page (re-rendered into #detail) or the outbox (into #main).
 */
export function ResendCell({ email, csrf, from, status }: { email: Pick<EmailRow, "id" | "ad_id" | "status">; csrf: string; from: "ad" | "outbox"; status?: string }) {
  if (email.status !== "failed") return <td></td>;
  const url = `/admin/emails/${email.id}/resend`;
  return (
    <td>
      <form method="post" action={url} hx-post={url} hx-target={from === "ad" ? "#detail" : "#main"} hx-swap={from === "ad" ? "outerHTML" : "innerHTML"} class="inline">
        <CsrfField csrf={csrf} />
        <input type="hidden" name="from" value={from} />
        {from === "ad" ? <input type="hidden" name="ad" value={email.ad_id} /> : status ? <input type="hidden" name="status" value={status} /> : ""}
        <button type="submit" class="small">
          Resend
        </button>
      </form>
    </td>
  );
}

/** Two table cells: an e-mail's delivery status (with its last error) and the provider's id. */
export function EmailDelivery({ email }: { email: Pick<EmailRow, "status" | "last_error" | "provider_id"> }) {
  return (
    <>
      <td>
        <StateBadge state={email.status} />
        {email.last_error ? (
          <div class="error-text" safe>
            {email.last_error}
          </div>
        ) : (
          ""
        )}
      </td>
      <td>
        <code safe>{email.provider_id ?? "–"}</code>
      </td>
    </>
  );
}
