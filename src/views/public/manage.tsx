import { Html } from "@kitajs/html";
import type { PosterView } from "../../database/poster-repository";
import { categoryLabel, t, type Lang } from "../../i18n";
import { formatDate } from "../../i18n/format";
import { PublicPage } from "./shell";

export interface ManageProps {
  lang: Lang;
  ad: PosterView;
  /** The page's own path (`/manage/<token>`): the forms post below it. */
  base: string;
  /** The form token the actions must carry (derived from the link's token). */
  csrf: string;
  flash?: string;
  error?: string;
}

/** The poster's private page: their ad, what happened to it, and what they can do now. */
export function ManagePage(p: ManageProps): string {
  const c = t(p.lang).manage;
  const ad = p.ad;
  const gone = ad.state === "withdrawn";
  return (
    <PublicPage lang={p.lang} title={c.title} here={p.base}>
      <h1 safe>{c.heading}</h1>
      <p class="muted" safe>
        {c.privateNote}
      </p>
      {p.flash && (
        <div class="notice notice-success" role="status" safe>
          {p.flash}
        </div>
      )}
      {p.error && (
        <div class="notice notice-error" role="alert" safe>
          {p.error}
        </div>
      )}
      <section class="manage-ad">
        <p>
          <strong safe>{c.stateLabel}</strong> <span class={`state state-${ad.state}`} safe>{c.states[ad.state]}</span>
        </p>
        {!gone && (
          <p class="description" dir="auto" safe>
            {ad.description}
          </p>
        )}
        {ad.category && ad.state === "accepted" && (
          <p>
            <span safe>{c.categoryLabel}</span> <span class="category" data-category={ad.category} safe>{categoryLabel(p.lang, ad.category)}</span>{" "}
            <a href={`/ads/${ad.id}`} safe>
              {c.viewPublic}
            </a>
          </p>
        )}
        {ad.appeal_note && (
          <blockquote class="appeal-note" dir="auto" safe>
            {ad.appeal_note}
          </blockquote>
        )}
      </section>
      <section aria-labelledby="history-h">
        <h2 id="history-h" safe>
          {c.historyHeading}
        </h2>
        <ol class="history">
          {ad.history.map((h) => (
            <li>
              <time datetime={h.created_at.toISOString()} safe>
                {formatDate(p.lang, h.created_at)}
              </time>{" "}
              <span safe>{c.event(c.states[h.to_state as keyof typeof c.states] ?? h.to_state, c.by[h.by])}</span>
            </li>
          ))}
        </ol>
      </section>
      {ad.state === "rejected" && !ad.appealed_at && (
        <section aria-labelledby="appeal-h">
          <h2 id="appeal-h" safe>
            {c.appealHeading}
          </h2>
          <p safe>{c.appealLead}</p>
          <form method="post" action={`${p.base}/appeal`}>
            <input type="hidden" name="_csrf" value={p.csrf} />
            <label>
              <span safe>{c.appealNote}</span>
              <textarea name="note" required maxlength="1000" rows="4" dir="auto"></textarea>
            </label>
            <button type="submit" safe>
              {c.appealButton}
            </button>
          </form>
        </section>
      )}
      {!gone && (
        <section aria-labelledby="withdraw-h">
          <h2 id="withdraw-h" safe>
            {c.withdrawHeading}
          </h2>
          <p safe>{c.withdrawLead}</p>
          <form method="post" action={`${p.base}/withdraw`}>
            <input type="hidden" name="_csrf" value={p.csrf} />
            <label class="confirm">
              <input type="checkbox" name="confirm" value="yes" required /> <span safe>{c.withdrawConfirm}</span>
            </label>
            <button type="submit" class="danger" safe>
              {c.withdrawButton}
            </button>
          </form>
        </section>
      )}
    </PublicPage>
  ) as string;
}
