import { Html } from "@kitajs/html";
import type { PublicAd } from "../../domain/intake";
import { PublicPage } from "./shell";

/** How often a pending ad's status fragment asks again. */
export const POLL_EVERY = "2s";

const DATE = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** A timestamp for people (UTC), with the exact value in `datetime`. */
function When({ iso }: { iso: string }): string {
  return (
    <time datetime={iso} safe>
      {`${DATE.format(new Date(iso))} UTC`}
    </time>
  ) as string;
}

function Facts({ ad }: { ad: PublicAd }): string {
  return (
    <dl class="facts">
      {ad.category !== undefined && (
        <div>
          <dt>Category</dt>
          <dd class="category" safe>
            {ad.category}
          </dd>
        </div>
      )}
      <div>
        <dt>Posted</dt>
        <dd>
          <When iso={ad.created_at} />
        </dd>
      </div>
      {ad.decided_at !== undefined && (
        <div>
          <dt>Approved</dt>
          <dd>
            <When iso={ad.decided_at} />
          </dd>
        </div>
      )}
      <div>
        <dt>Ad ID</dt>
        <dd>
          <code class="ad-id" safe>
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
 * polling is not swapped in, so a brief outage does not stop the polling either.
 */
export function AdStatus({ ad }: { ad: PublicAd }): string {
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
        <p class="badge badge-pending">In review</p>
        <h1 safe>{ad.message}</h1>
        <p>
          We are checking the photo. This usually takes a few seconds: this page updates by itself, and we will also e-mail you the outcome.
        </p>
        <p class="progress" aria-hidden="true">
          <span></span>
          <span></span>
          <span></span>
        </p>
        <Facts ad={ad} />
      </section>
    ) as string;
  }
  if (ad.state === "rejected") {
    return (
      <section id="ad-status" class="card status status-rejected">
        <p class="badge badge-rejected">Not approved</p>
        <h1 safe>{ad.message}</h1>
        <p>Our automatic check did not find a vehicle in the photo, so the ad is not published. Only vehicle ads are accepted.</p>
        <p>
          <a class="button" href="/">
            Post a new ad
          </a>
        </p>
        <Facts ad={ad} />
      </section>
    ) as string;
  }
  return (
    <section id="ad-status" class="card status status-accepted">
      <p class="badge badge-accepted" safe>
        {ad.message}
      </p>
      <h1>Vehicle for sale</h1>
      <figure class="photo">
        <img src={ad.image_url} alt={`Photo of the vehicle (${ad.category ?? "vehicle"})`} />
      </figure>
      <h2 class="visually-hidden">Description</h2>
      <p class="description" safe>
        {ad.description}
      </p>
      <Facts ad={ad} />
    </section>
  ) as string;
}

/** GET /ads/:id for a browser: the whole page around the status fragment. */
export function AdPage({ ad }: { ad: PublicAd }): string {
  const title = ad.state === "accepted" ? `Vehicle for sale: ${ad.category ?? "vehicle"}` : ad.message;
  return (
    <PublicPage title={title}>
      <div aria-live="polite">
        <AdStatus ad={ad} />
      </div>
    </PublicPage>
  ) as string;
}
