import { Html } from "@kitajs/html";
import type { AdListRow, AdminTab } from "../../database/admin-repository";
import { CsrfField, Time, StateBadge, TopTags } from "./parts";

export const TAB_LABELS: Record<AdminTab, string> = {
  pending: "Pending",
  review: "Needs review",
  accepted: "Accepted",
  rejected: "Rejected",
  failed: "Failed",
};

/** The query string of a list view. */
export function listUrl(state: AdminTab, q?: string, before?: string): string {
  const p = new URLSearchParams({ state });
  if (q) p.set("q", q);
  if (before) p.set("before", before);
  return `/admin?${p}`;
}

/** The tabs with live counts; polls itself so counts move without a reload. */
export function Tabs({ state, q, counts }: { state: AdminTab; q?: string; counts: Record<AdminTab, number> }) {
  return (
    <nav id="tabs" class="tabs" aria-label="States" hx-get={`/admin/tabs?${new URLSearchParams({ state, ...(q ? { q } : {}) })}`} hx-trigger="every 5s" hx-swap="outerMorph">
      {(Object.keys(TAB_LABELS) as AdminTab[]).map((t) => (
        <a href={listUrl(t, q)} aria-current={t === state ? "page" : undefined} class={`tab tab-${t}`}>
          {TAB_LABELS[t]} <span class="count" data-state={t}>{String(counts[t])}</span>
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
export function Rows({ state, q, before, rows, more }: { state: AdminTab; q?: string; before?: string; rows: AdListRow[]; more: boolean }) {
  const self = `/admin/rows?${new URLSearchParams({ state, ...(q ? { q } : {}), ...(before ? { before } : {}) })}`;
  return (
    <div id="rows" hx-get={self} hx-trigger="every 5s" hx-swap="outerMorph">
      {rows.length === 0 ? (
        <p class="empty">Nothing here{q ? " for this search" : ""}.</p>
      ) : (
        <table class="ads">
          <thead>
            <tr>
              <th scope="col" class="sel">
                <input type="checkbox" id="select-all" aria-label="Select all on this page" />
              </th>
              <th scope="col">Photo</th>
              <th scope="col">Ad</th>
              <th scope="col">Top tags</th>
              <th scope="col">Age</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr id={`ad-${r.id}`}>
                <td class="sel">
                  <input type="checkbox" name="ids" value={r.id} form="bulk" aria-label="Select this ad" />
                </td>
                <td>
                  <a href={`/admin/ads/${r.id}`}>
                    <img class="thumb" src={`/admin/ads/${r.id}/image`} alt="" loading="lazy" width="64" height="48" />
                  </a>
                </td>
                <td class="ad-cell">
                  <a href={`/admin/ads/${r.id}`} class="desc" safe>
                    {r.description}
                  </a>
                  <div class="meta">
                    <StateBadge state={r.state} />
                    {r.category ? (
                      <span class="category" safe>
                        {r.category}
                      </span>
                    ) : (
                      ""
                    )}
                    <span class="email" safe>
                      {r.email}
                    </span>
                  </div>
                  {r.last_error ? (
                    <div class="row-error" safe>
                      {r.last_error}
                    </div>
                  ) : (
                    ""
                  )}
                </td>
                <td>
                  <TopTags tags={r.tags} />
                </td>
                <td>
                  <Time at={r.created_at} />
                </td>
                <td class="num">{String(r.attempts)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {before ? <a href={listUrl(state, q)}>← Newest</a> : ""}
        {more && rows.length ? <a href={listUrl(state, q, cursorOf(rows[rows.length - 1]!))}>Older →</a> : ""}
      </nav>
    </div>
  );
}

/** The queue page body: search, tabs, bulk actions, rows. */
export function QueueView(props: { state: AdminTab; q?: string; before?: string; counts: Record<AdminTab, number>; rows: AdListRow[]; more: boolean; flash?: string; csrf: string }) {
  const { state, q } = props;
  return (
    <>
      <div class="queue-head">
        <h1>Ads</h1>
        <form method="get" action="/admin" role="search" class="search">
          <input type="hidden" name="state" value={state} />
          <label for="q" class="visually-hidden">
            Search by id, e-mail or text
          </label>
          <input id="q" name="q" type="search" value={q ?? ""} placeholder="Search id, e-mail or text" maxlength="200" />
          <button type="submit">Search</button>
        </form>
      </div>
      <Tabs state={state} q={q} counts={props.counts} />
      {props.flash ? (
        <p class="flash" role="status" safe>
          {props.flash}
        </p>
      ) : (
        ""
      )}
      <form id="bulk" method="post" action="/admin/bulk" class="bulk" hx-post="/admin/bulk" hx-target="#main" hx-swap="innerHTML">
        <CsrfField csrf={props.csrf} />
        <input type="hidden" name="state" value={state} />
        <input type="hidden" name="q" value={q ?? ""} />
        <span class="bulk-label">With selected:</span>
        <button type="submit" name="action" value="approve">
          Approve
        </button>
        <button type="submit" name="action" value="reprocess">
          Reprocess
        </button>
        <label for="bulk-reason" class="visually-hidden">
          Reason for rejection
        </label>
        <input id="bulk-reason" name="reason" placeholder="Reason (for reject)" maxlength="500" />
        <button type="submit" name="action" value="reject" class="danger">
          Reject
        </button>
      </form>
      <Rows state={state} q={q} before={props.before} rows={props.rows} more={props.more} />
    </>
  );
}
