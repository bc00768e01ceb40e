import { Html } from "@kitajs/html";
import { ADMIN_TABS, type AdListRow, type AdminTab } from "../../database/admin-repository";
import { t, type Lang } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { actorHtml, Category, CsrfField, Notes, StateBadge, Time, TopTags } from "./parts";

/** The query string of a list view. */
export function listUrl(state: AdminTab, q?: string, before?: string): string {
  const p = new URLSearchParams({ state });
  if (q) p.set("q", q);
  if (before) p.set("before", before);
  return `/admin?${p}`;
}

/** The tabs with live counts; polls itself so counts move without a reload. */
export function Tabs({ state, q, counts, lang }: { state: AdminTab; q?: string; counts: Record<AdminTab, number>; lang: Lang }) {
  const m = t(lang).admin;
  return (
    <nav id="tabs" class="tabs" aria-label={m.queue.statesLabel} hx-get={`/admin/tabs?${new URLSearchParams({ state, ...(q ? { q } : {}) })}`} hx-trigger="every 5s" hx-swap="outerMorph">
      {ADMIN_TABS.map((tab) => (
        <a href={listUrl(tab, q)} aria-current={tab === state ? "page" : undefined} class={`tab tab-${tab}`}>
          {m.tabs[tab]}{" "}
          <span class="count" data-state={tab} data-n={String(counts[tab])}>
            {formatNumber(lang, counts[tab])}
          </span>
        </a>
      ))}
    </nav>
  );
}

/** Encodes a keyset cursor. */
export function cursorOf(row: AdListRow): string {
  return `${row.created_at.toISOString()}_${row.id}`;
}

/** The rows of one page (a fragment that refreshes itself by morphing, keeping checkboxes). */
export function Rows({ state, q, before, rows, more, lang }: { state: AdminTab; q?: string; before?: string; rows: AdListRow[]; more: boolean; lang: Lang }) {
  const m = t(lang).admin;
  const self = `/admin/rows?${new URLSearchParams({ state, ...(q ? { q } : {}), ...(before ? { before } : {}) })}`;
  return (
    <div id="rows" hx-get={self} hx-trigger="every 5s" hx-swap="outerMorph">
      {rows.length === 0 ? (
        <p class="empty">{q ? m.queue.emptySearch : m.queue.empty}</p>
      ) : (
        <table class="ads">
          <thead>
            <tr>
              <th scope="col" class="sel">
                <input type="checkbox" id="select-all" aria-label={m.queue.selectAll} />
              </th>
              <th scope="col">{m.queue.columns.photo}</th>
              <th scope="col">{m.queue.columns.ad}</th>
              <th scope="col">{m.queue.columns.topTags}</th>
              <th scope="col">{m.queue.columns.age}</th>
              <th scope="col">{m.queue.columns.attempts}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr id={`ad-${r.id}`}>
                <td class="sel">
                  <input type="checkbox" name="ids" value={r.id} form="bulk" aria-label={m.queue.selectOne} />
                </td>
                <td>
                  <a href={`/admin/ads/${r.id}`}>
                    <img class="thumb" src={`/admin/ads/${r.id}/image`} alt="" loading="lazy" width="64" height="48" />
                  </a>
                </td>
                <td class="ad-cell">
                  <a href={`/admin/ads/${r.id}`} class="desc" dir="auto" safe>
                    {r.description}
                  </a>
                  <div class="meta">
                    <StateBadge state={r.state} lang={lang} />
                    {r.category ? (
                      <span class="category">
                        <Category name={r.category} lang={lang} />
                      </span>
                    ) : (
                      ""
                    )}
                    {r.decided_by ? <span class="decided-by">{m.detail.decidedBy(actorHtml(lang, r.decided_by))}</span> : ""}
                    {r.appealed ? <span class="badge badge-appeal">{m.queue.appealed}</span> : ""}
                    {r.copy_of && r.state === "review" ? <span class="badge badge-copy">{m.queue.possibleCopy}</span> : ""}
                    <span class="email" dir="ltr" safe>
                      {r.email}
                    </span>
                  </div>
                  {r.last_error ? (
                    <div class="row-error" dir="auto" safe>
                      {r.last_error}
                    </div>
                  ) : (
                    ""
                  )}
                </td>
                <td>
                  <TopTags tags={r.tags} lang={lang} />
                </td>
                <td>
                  <Time at={r.created_at} lang={lang} />
                </td>
                <td class="num">{formatNumber(lang, r.attempts)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label={m.queue.pagesLabel}>
        {before ? <a href={listUrl(state, q)}>{m.queue.newest}</a> : ""}
        {more && rows.length ? <a href={listUrl(state, q, cursorOf(rows[rows.length - 1]!))}>{m.queue.older}</a> : ""}
      </nav>
    </div>
  );
}

/** The queue page body: search, tabs, bulk actions, rows. */
export function QueueView(props: { state: AdminTab; q?: string; before?: string; counts: Record<AdminTab, number>; rows: AdListRow[]; more: boolean; flash?: string; csrf: string; lang: Lang }) {
  const { state, q, lang } = props;
  const m = t(lang).admin.queue;
  return (
    <>
      <div class="queue-head">
        <h1>{m.heading}</h1>
        <form method="get" action="/admin" role="search" class="search">
          <input type="hidden" name="state" value={state} />
          <label for="q" class="visually-hidden">
            {m.searchLabel}
          </label>
          <input id="q" name="q" type="search" dir="auto" value={q ?? ""} placeholder={m.searchPlaceholder} maxlength="200" />
          <button type="submit">{m.search}</button>
        </form>
      </div>
      <Tabs state={state} q={q} counts={props.counts} lang={lang} />
      <Notes flash={props.flash} />
      <form id="bulk" method="post" action="/admin/bulk" class="bulk" hx-post="/admin/bulk" hx-target="#main" hx-swap="innerHTML">
        <CsrfField csrf={props.csrf} />
        <input type="hidden" name="state" value={state} />
        <input type="hidden" name="q" value={q ?? ""} />
        <span class="bulk-label">{m.withSelected}</span>
        <button type="submit" name="action" value="approve">
          {m.approve}
        </button>
        <button type="submit" name="action" value="reprocess">
          {m.reprocess}
        </button>
        <label for="bulk-reason" class="visually-hidden">
          {m.rejectReasonLabel}
        </label>
        <input id="bulk-reason" name="reason" dir="auto" placeholder={m.rejectReasonPlaceholder} maxlength="500" />
        <button type="submit" name="action" value="reject" class="danger">
          {m.reject}
        </button>
      </form>
      <Rows state={state} q={q} before={props.before} rows={props.rows} more={props.more} lang={lang} />
    </>
  );
}
