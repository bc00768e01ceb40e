import { Html } from "@kitajs/html";
import type { EmailRow } from "../../database/ad-repository";
import { categoryLabel, t, type Lang } from "../../i18n";
import { formatDate, formatNumber, toPersianDigits } from "../../i18n/format";
import type { Tag } from "../../tagger/tagger";

/** "3 min ago" style age, in the page's language. */
export function age(lang: Lang, d: Date, now = Date.now()): string {
  const a = t(lang).admin.age;
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return a.seconds(s);
  if (s < 3600) return a.minutes(Math.round(s / 60));
  if (s < 86400) return a.hours(Math.round(s / 3600));
  return a.days(Math.round(s / 86400));
}

/** A timestamp shown as its age, with the full date (Solar Hijri on Persian pages) in a tooltip. */
export function Time({ at, lang }: { at: Date | null; lang: Lang }) {
  if (!at) return <span class="muted">–</span>;
  return (
    <time datetime={at.toISOString()} title={formatDate(lang, at)}>
      {age(lang, at)}
    </time>
  );
}

/** A timestamp shown as a date and time (Solar Hijri and Tehran time on Persian pages), its age in a tooltip. */
export function DateTime({ at, lang }: { at: Date | null; lang: Lang }) {
  if (!at) return <span class="muted">–</span>;
  return (
    <time datetime={at.toISOString()} title={age(lang, at)} class="date">
      {formatDate(lang, at)}
    </time>
  );
}

/** A day ("YYYY-MM-DD", UTC) as a short label: "12-02" on English pages, "۱۱ آذر" on Persian ones. */
const FA_DAY = new Intl.DateTimeFormat("fa-IR-u-ca-persian-nu-arabext", { month: "short", day: "numeric", timeZone: "UTC" });
export function dayLabel(lang: Lang, day: string): string {
  return lang === "fa" ? FA_DAY.format(new Date(`${day}T00:00:00Z`)) : day.slice(5);
}

/** Digits in the page's language (for labels that are not quantities, like an hour "07"). */
export function digits(lang: Lang, s: string): string {
  return lang === "fa" ? toPersianDigits(s) : s;
}

/** A number in the page's language. */
export function Num({ n, lang }: { n: number; lang: Lang }) {
  return <>{formatNumber(lang, n)}</>;
}

/** An ad's state (`kind` "ad") or an e-mail's status (`kind` "email") as a coloured badge. */
export function StateBadge({ state, lang, kind = "ad" }: { state: string; lang: Lang; kind?: "ad" | "email" }) {
  const labels = (kind === "ad" ? t(lang).admin.states : t(lang).admin.emailStatus) as Readonly<Record<string, string>>;
  return (
    <span class={`badge badge-${state}`} safe>
      {Object.hasOwn(labels, state) ? labels[state]! : state}
    </span>
  );
}

/** A tag or category name: known vehicle tags translated, any other shown as it is, in its own direction. */
export function Category({ name, lang }: { name: string; lang: Lang }) {
  return <bdi safe>{categoryLabel(lang, name)}</bdi>;
}

/** Who made a change: the system's actors translated, an operator by their name. */
export function actorLabel(lang: Lang, actor: string): string | null {
  const known = t(lang).admin.actors as Readonly<Record<string, string>>;
  return Object.hasOwn(known, actor) ? known[actor]! : null;
}

export function Actor({ name, lang }: { name: string; lang: Lang }) {
  const known = actorLabel(lang, name);
  return known ? <span class="actor">{known}</span> : <bdi class="actor operator-name" safe>{name}</bdi>;
}

/** An actor as escaped HTML, for the catalogue's "by <actor>" entries. */
export function actorHtml(lang: Lang, name: string): string {
  return `<strong>${actorLabel(lang, name) ?? `<bdi class="operator-name">${Html.escapeHtml(name)}</bdi>`}</strong>`;
}

/** The top tags of an ad, compactly. */
export function TopTags({ tags, lang, n = 3 }: { tags: Tag[] | null; lang: Lang; n?: number }) {
  if (!tags?.length) return <span class="muted">{t(lang).admin.queue.notTagged}</span>;
  const top = [...tags].sort((a, b) => b.confidence - a.confidence).slice(0, n);
  return (
    <span class="tags">
      {top.map((tag) => (
        <span class="tag">
          <Category name={tag.name} lang={lang} /> <small>{formatNumber(lang, Math.round(tag.confidence))}</small>
        </span>
      ))}
    </span>
  );
}

/**
 * A tag's confidence as a bar against the acceptance threshold. SVG attributes rather than
 * inline styles, so the strict CSP (no inline styles) holds. The bar fills from the start side
 * (the right on Persian pages: admin.css mirrors it).
 */
export function ConfidenceBar({ tag, lang, minConfidence, highlight }: { tag: Tag; lang: Lang; minConfidence: number; highlight: boolean }) {
  const w = Math.max(0, Math.min(100, tag.confidence));
  const value = formatNumber(lang, tag.confidence, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return (
    <div class={highlight ? "bar-row highlight" : "bar-row"}>
      <span class="bar-label">
        <Category name={tag.name} lang={lang} />
      </span>
      <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label={`${categoryLabel(lang, tag.name)}: ${value}`}>
        <rect x="0" y="0" width="100" height="10" class="bar-bg" />
        <rect x="0" y="0" width={String(w)} height="10" class={highlight ? (w >= minConfidence ? "bar-fill ok" : "bar-fill low") : "bar-fill"} />
        <line x1={String(minConfidence)} x2={String(minConfidence)} y1="0" y2="10" class="bar-threshold" />
      </svg>
      <span class="bar-value">{value}</span>
    </div>
  );
}

/** A table's column headers; with `actions`, a last column (its label for screen readers only) for each row's actions. */
export function ColumnHeads({ cols, actions }: { cols: string[]; actions?: string }) {
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
            <span class="visually-hidden" safe>
              {actions}
            </span>
          </th>
        ) : (
          ""
        )}
      </tr>
    </thead>
  );
}

/**
 * The session's CSRF token as a form field, for the forms to work without JavaScript (htmx
 * requests send it as the X-CSRF-Token header too). Every `<form method="post">` needs one.
 */
export function CsrfField({ csrf }: { csrf: string }) {
  return <input type="hidden" name="_csrf" value={csrf} />;
}

/** A confirmation (green) and an error (red) above a view, when there is one. */
export function Notes({ flash, error }: { flash?: string; error?: string }) {
  return (
    <>
      {flash ? (
        <p class="flash" role="status" safe>
          {flash}
        </p>
      ) : (
        ""
      )}
      {error ? (
        <p class="error" role="alert" safe>
          {error}
        </p>
      ) : (
        ""
      )}
    </>
  );
}

/**
 * A table cell with a "Resend" button for a failed e-mail (empty otherwise). `from` says where the
 * answer goes: the ad's page (re-rendered into #detail) or the outbox (into #main).
 */
export function ResendCell({ email, csrf, lang, from, status }: { email: Pick<EmailRow, "id" | "ad_id" | "status">; csrf: string; lang: Lang; from: "ad" | "outbox"; status?: string }) {
  if (email.status !== "failed") return <td></td>;
  const url = `/admin/emails/${email.id}/resend`;
  return (
    <td>
      <form method="post" action={url} hx-post={url} hx-target={from === "ad" ? "#detail" : "#main"} hx-swap={from === "ad" ? "outerHTML" : "innerHTML"} class="inline">
        <CsrfField csrf={csrf} />
        <input type="hidden" name="from" value={from} />
        {from === "ad" ? <input type="hidden" name="ad" value={email.ad_id} /> : status ? <input type="hidden" name="status" value={status} /> : ""}
        <button type="submit" class="small">
          {t(lang).admin.detail.resend}
        </button>
      </form>
    </td>
  );
}

/** Two table cells: an e-mail's delivery status (with its last error) and the provider's id. */
export function EmailDelivery({ email, lang }: { email: Pick<EmailRow, "status" | "last_error" | "provider_id">; lang: Lang }) {
  return (
    <>
      <td>
        <StateBadge state={email.status} lang={lang} kind="email" />
        {email.last_error ? (
          <div class="error-text" dir="auto" safe>
            {email.last_error}
          </div>
        ) : (
          ""
        )}
      </td>
      <td>
        <code dir="ltr" safe>
          {email.provider_id ?? "–"}
        </code>
      </td>
    </>
  );
}
