import { Html } from "@kitajs/html";
import type { OutboxRow } from "../../database/admin-repository";
import { t, type Lang } from "../../i18n";
import { ColumnHeads, DateTime, EmailDelivery, Notes, ResendCell } from "./parts";

export const OUTBOX_STATUSES = ["queued", "sending", "sent", "failed"] as const;

/** Every e-mail the service sent or means to send, newest first; a failed one can be re-sent. */
export function OutboxView({ rows, more, status, csrf, lang, flash, error }: { rows: OutboxRow[]; more: boolean; status?: string; csrf: string; lang: Lang; flash?: string; error?: string }) {
  const a = t(lang).admin;
  const m = a.outbox;
  const c = m.columns;
  return (
    <>
      <h1>{m.heading}</h1>
      <Notes flash={flash} error={error} />
      <nav class="tabs" aria-label={m.statusLabel}>
        {(["", ...OUTBOX_STATUSES] as const).map((s) => (
          <a href={s ? `/admin/outbox?status=${s}` : "/admin/outbox"} aria-current={(status ?? "") === s ? "page" : undefined} class="tab">
            {s ? a.emailStatus[s] : m.all}
          </a>
        ))}
      </nav>
      {rows.length === 0 ? (
        <p class="empty">{m.empty}</p>
      ) : (
        <table class="plain outbox">
          <ColumnHeads cols={[c.when, c.to, c.subject, c.status, c.providerId, c.ad]} actions={c.actions} />
          <tbody>
            {rows.map((e) => (
              <tr>
                <td>
                  <DateTime at={e.sent_at ?? e.created_at} lang={lang} />
                </td>
                <td dir="ltr" class="email" safe>
                  {e.to_address}
                </td>
                <td dir="auto" safe>
                  {e.subject}
                </td>
                <EmailDelivery email={e} lang={lang} />
                <td>
                  <a href={`/admin/ads/${e.ad_id}`} dir="auto" safe>
                    {e.ad_description}
                  </a>
                </td>
                <ResendCell email={e} csrf={csrf} lang={lang} from="outbox" status={status} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {more && rows.length ? <a href={`/admin/outbox?${new URLSearchParams({ ...(status ? { status } : {}), before: rows[rows.length - 1]!.id })}`}>{m.older}</a> : ""}
      </nav>
    </>
  );
}
