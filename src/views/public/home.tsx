import { Html } from "@kitajs/html";
import { PublicPage } from "./shell";

/** The image types the service accepts (it checks the bytes; this only guides the file picker). */
export const IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/gif";

export interface HomeProps {
  maxImageBytes: number;
  descriptionMax: number;
  emailMax: number;
}

/** "10 MB" for 10 MiB: the size hint shown next to the photo field. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

/**
 * The form to post an ad. With htmx it posts in place: a 201 replaces the whole section with the
 * confirmation (hx-status:2xx retargets), an error (htmx 4 swaps 4xx/5xx) lands in #form-message
 * and keeps what was typed. Without JavaScript it is a plain multipart form to the same URL.
 */
export function PostAdForm({ maxImageBytes, descriptionMax, emailMax }: HomeProps): string {
  const retargetOnSuccess = { "hx-status:2xx": "target:#post-ad" };
  return (
    <section id="post-ad" class="card" aria-labelledby="post-ad-title">
      <h2 id="post-ad-title">Post an ad</h2>
      <form
        id="ad-form"
        action="/ads"
        method="post"
        enctype="multipart/form-data"
        hx-post="/ads"
        hx-encoding="multipart/form-data"
        hx-target="#form-message"
        hx-swap="innerHTML"
        hx-disable="find button"
        {...retargetOnSuccess}
      >
        <div class="field">
          <label for="description">Description</label>
          <p class="hint" id="description-hint" safe>
            {`Make, model, year, mileage, condition, price and how to reach you. Up to ${descriptionMax.toLocaleString("en-GB")} characters.`}
          </p>
          <textarea id="description" name="description" rows="6" maxlength={String(descriptionMax)} required aria-describedby="description-hint"></textarea>
        </div>
        <div class="field">
          <label for="email">Your e-mail</label>
          <p class="hint" id="email-hint">
            We e-mail you the outcome of the review. It is never shown on the ad.
          </p>
          <input
            id="email"
            name="email"
            type="email"
            maxlength={String(emailMax)}
            autocomplete="email"
            spellcheck="false"
            required
            aria-describedby="email-hint"
          />
        </div>
        <div class="field">
          <label for="image">Photo of the vehicle</label>
          <p class="hint" id="image-hint" safe>
            {`One photo: JPEG, PNG, WebP or GIF, up to ${formatBytes(maxImageBytes)}. Ads are published only if the photo shows a vehicle.`}
          </p>
          <input id="image" name="image" type="file" accept={IMAGE_ACCEPT} required aria-describedby="image-hint" />
        </div>
        <div id="form-message" aria-live="polite"></div>
        <div class="actions">
          <button type="submit">Post the ad</button>
          <span class="htmx-indicator" role="status">
            Sending…
          </span>
        </div>
      </form>
    </section>
  ) as string;
}

/** A plain GET form that goes to /lookup?id=…, which redirects to the ad's page. */
export function LookupForm(): string {
  return (
    <section id="lookup" class="card" aria-labelledby="lookup-title">
      <h2 id="lookup-title">Check an ad</h2>
      <form action="/lookup" method="get" class="lookup">
        <div class="field">
          <label for="lookup-id">Ad ID</label>
          <p class="hint" id="lookup-hint">
            The ID you got when you posted the ad (also in our e-mail).
          </p>
          <div class="inline">
            <input
              id="lookup-id"
              name="id"
              type="text"
              required
              maxlength="100"
              autocomplete="off"
              autocapitalize="off"
              spellcheck="false"
              placeholder="e.g. 0190a5c2-…"
              aria-describedby="lookup-hint"
            />
            <button type="submit">Look up</button>
          </div>
        </div>
      </form>
    </section>
  ) as string;
}

/** GET /: what the service does, the form to post an ad, and the lookup form. */
export function HomePage(props: HomeProps): string {
  return (
    <PublicPage title="Sell your vehicle">
      <div class="intro">
        <h1>Sell your vehicle</h1>
        <p>
          Post an ad with one photo. We check automatically that the photo shows a vehicle, usually within seconds, and e-mail you the result.
        </p>
      </div>
      <PostAdForm {...props} />
      <LookupForm />
    </PublicPage>
  ) as string;
}
