import { Html } from "@kitajs/html";
import type { OutboxRow } from "../../database/admin-repository";
import { ColumnHeads, EmailDelivery, ResendCell, Time } from "./parts";

/** Every e-mail the service sent or means to send, newest first; a failed one can be re-sent. */
export function OutboxView({ rows, more, status, csrf, flash, error }: { rows: OutboxRow[]; more: boolean; status?: string; csrf: string; flash?: string; error?: string }) {
  const statuses = ["", "queued", "sending", "sent", "failed"];
  return (
    <>
      <h1>E-mail outbox</h1>
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
      <nav class="tabs" aria-label="Status">
        {statuses.map((s) => (
          <a href={s ? `/admin/outbox?status=${s}` : "/admin/outbox"} aria-current={(status ?? "") === s ? "page" : undefined} class="tab">
            {s || "all"}
          </a>
        ))}
      </nav>
      {rows.length === 0 ? (
        <p class="empty">No e-mails.</p>
      ) : (
        <table class="plain outbox">
          <ColumnHeads cols={["When", "To", "Subject", "Status", "Provider id", "Ad"]} actions />
          <tbody>
            {rows.map((e) => (
              <tr>
                <td>
                  <Time at={e.sent_at ?? e.created_at} />
                </td>
                <td safe>{e.to_address}</td>
                <td safe>{e.subject}</td>
                <EmailDelivery email={e} />
                <td>
                  <a href={`/admin/ads/${e.ad_id}`} safe>
                    {e.ad_description}
                  </a>
                </td>
                <ResendCell email={e} csrf={csrf} from="outbox" status={status} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {more && rows.length ? <a href={`/admin/outbox?${new URLSearchParams({ ...(status ? { status } : {}), before: rows[rows.length - 1]!.id })}`}>Older →</a> : ""}
      </nav>
    </>
  );
}
