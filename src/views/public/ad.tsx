import { Html } from "@kitajs/html";
import type { PublicAd } from "../../domain/intake";
import { categoryLabel, t, type Lang } from "../../i18n";
import { formatDate } from "../../i18n/format";
import { Arrow } from "./icons";
import { PublicPage } from "./shell";

/** How often a pending ad's status fragment asks again. */
export const POLL_EVERY = "2s";

/** A timestamp for people in the reader's calendar (Solar Hijri in Persian), the exact value in `datetime`. */
function When({ lang, iso }: { lang: Lang; iso: string }): string {
  return (
    <time datetime={iso} safe>
      {formatDate(lang, iso)}
    </time>
  ) as string;
}

function Facts({ lang, ad }: { lang: Lang; ad: PublicAd }): string {
  const f = t(lang).ad.facts;
  return (
    <dl class="facts">
      {ad.category !== undefined && (
        <div>
          <dt safe>{f.category}</dt>
          <dd class="category" data-category={ad.category} safe>
            {categoryLabel(lang, ad.category)}
          </dd>
        </div>
      )}
      <div>
        <dt safe>{f.posted}</dt>
        <dd>
          <When lang={lang} iso={ad.created_at} />
        </dd>
      </div>
      {ad.decided_at !== undefined && (
        <div>
          <dt safe>{f.approved}</dt>
          <dd>
            <When lang={lang} iso={ad.decided_at} />
          </dd>
        </div>
      )}
      <div>
        <dt safe>{f.adId}</dt>
        <dd>
          <code class="ad-id" dir="ltr" safe>
            {ad.id}
          </code>
        </dd>
      </div>
    </dl>
  ) as string;
}

/**
 * The state-dependent part of an ad's page, `section#ad-status`; also what GET /ads/:id answers
 * to htmx. While the ad is pending it polls its own URL and replaces itself (outerHTML); the
 * accepted and rejected versions carry no hx-trigger, so the polling stops there. A 5xx while
 * polling is not swapped in, so a brief outage does not stop the polling either. The polls carry
 * the page's `lang` cookie or Accept-Language, so the fragment comes in the page's language.
 * The description is the poster's text in either direction: `dir="auto"` sets its own.
 */
export function AdStatus({ lang, ad }: { lang: Lang; ad: PublicAd }): string {
  const s = t(lang).status;
  if (ad.state === "pending") {
    const keepPollingOn5xx = { "hx-status:5xx": "swap:none" };
    return (
      <section
        id="ad-status"
        class="card status status-pending"
        hx-get={`/ads/${ad.id}`}
        hx-trigger={`every ${POLL_EVERY}`}
        hx-swap="outerHTML"
        {...keepPollingOn5xx}
      >
        <p class="badge badge-pending" safe>
          {s.badge.pending}
        </p>
        <h1 safe>{ad.message}</h1>
        <p safe>{s.pendingText}</p>
        <p class="progress" aria-hidden="true">
          <span></span>
          <span></span>
          <span></span>
        </p>
        <Facts lang={lang} ad={ad} />
      </section>
    ) as string;
  }
  if (ad.state === "rejected") {
    return (
      <section id="ad-status" class="card status status-rejected">
        <p class="badge badge-rejected" safe>
          {s.badge.rejected}
        </p>
        <h1 safe>{ad.message}</h1>
        <p safe>{s.rejectedText}</p>
        <p>
          <a class="button" href="/">
            <span safe>{s.postNew}</span> <Arrow to="forward" />
          </a>
        </p>
        <Facts lang={lang} ad={ad} />
      </section>
    ) as string;
  }
  const a = t(lang).ad;
  const category = categoryLabel(lang, ad.category ?? "vehicle");
  return (
    <section id="ad-status" class="card status status-accepted">
      <p class="badge badge-accepted" safe>
        {ad.message}
      </p>
      <h1 safe>{a.heading}</h1>
      <figure class="photo">
        <img src={ad.image_url} alt={a.photoAlt(category)} />
      </figure>
      <h2 class="visually-hidden" safe>
        {a.descriptionHeading}
      </h2>
      <p class="description" dir="auto" safe>
        {ad.description}
      </p>
      <Facts lang={lang} ad={ad} />
    </section>
  ) as string;
}

/** GET /ads/:id for a browser: the whole page around the status fragment, in the reader's language. */
export function AdPage({ lang, ad, here }: { lang: Lang; ad: PublicAd; here?: string }): string {
  const title = ad.state === "accepted" ? t(lang).ad.pageTitle(categoryLabel(lang, ad.category ?? "vehicle")) : ad.message;
  return (
    <PublicPage lang={lang} title={title} here={here ?? `/ads/${ad.id}`}>
      <div aria-live="polite">
        <AdStatus lang={lang} ad={ad} />
      </div>
    </PublicPage>
  ) as string;
}
