import { Html } from "@kitajs/html";
import { t, type Lang } from "../../i18n";
import { PublicPage } from "./shell";

/** The image types the service accepts (it checks the bytes; this only guides the file picker). */
export const IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/gif";

export interface HomeProps {
  lang: Lang;
  maxImageBytes: number;
  descriptionMax: number;
  emailMax: number;
}

/**
 * The form to post an ad. With htmx it posts in place: a 201 replaces the whole section with the
 * confirmation (hx-status:2xx retargets), an error (htmx 4 swaps 4xx/5xx) lands in #form-message
 * and keeps what was typed. Without JavaScript it is a plain multipart form to the same URL.
 * The description may be in either direction (`dir="auto"`); the e-mail address is always left
 * to right.
 */
export function PostAdForm({ lang, maxImageBytes, descriptionMax, emailMax }: HomeProps): string {
  const c = t(lang);
  const p = c.post;
  const retargetOnSuccess = { "hx-status:2xx": "target:#post-ad" };
  return (
    <section id="post-ad" class="card" aria-labelledby="post-ad-title">
      <h2 id="post-ad-title" safe>
        {p.formTitle}
      </h2>
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
          <label for="description" safe>
            {p.descriptionLabel}
          </label>
          <p class="hint" id="description-hint" safe>
            {p.descriptionHint(descriptionMax)}
          </p>
          <textarea
            id="description"
            name="description"
            rows="6"
            dir="auto"
            maxlength={String(descriptionMax)}
            required
            aria-describedby="description-hint"
          ></textarea>
        </div>
        <div class="field">
          <label for="email" safe>
            {p.emailLabel}
          </label>
          <p class="hint" id="email-hint" safe>
            {p.emailHint}
          </p>
          <input
            id="email"
            name="email"
            type="email"
            dir="ltr"
            maxlength={String(emailMax)}
            autocomplete="email"
            spellcheck="false"
            required
            aria-describedby="email-hint"
          />
        </div>
        <div class="field">
          <label for="image" safe>
            {p.photoLabel}
          </label>
          <p class="hint" id="image-hint" safe>
            {p.photoHint(maxImageBytes)}
          </p>
          <input id="image" name="image" type="file" accept={IMAGE_ACCEPT} required aria-describedby="image-hint" />
        </div>
        <div id="form-message" aria-live="polite"></div>
        <div class="actions">
          <button type="submit" safe>
            {p.submit}
          </button>
          <span class="htmx-indicator" role="status" safe>
            {c.common.sending}
          </span>
        </div>
      </form>
    </section>
  ) as string;
}

/** A plain GET form that goes to /lookup?id=…, which redirects to the ad's page. */
export function LookupForm({ lang }: { lang: Lang }): string {
  const l = t(lang).post.lookup;
  return (
    <section id="lookup" class="card" aria-labelledby="lookup-title">
      <h2 id="lookup-title" safe>
        {l.title}
      </h2>
      <form action="/lookup" method="get" class="lookup">
        <div class="field">
          <label for="lookup-id" safe>
            {l.label}
          </label>
          <p class="hint" id="lookup-hint" safe>
            {l.hint}
          </p>
          <div class="inline">
            <input
              id="lookup-id"
              name="id"
              type="text"
              dir="ltr"
              required
              maxlength="100"
              autocomplete="off"
              autocapitalize="off"
              spellcheck="false"
              placeholder={l.placeholder}
              aria-describedby="lookup-hint"
            />
            <button type="submit" safe>
              {l.submit}
            </button>
          </div>
        </div>
      </form>
    </section>
  ) as string;
}

/** GET /: what the service does, the form to post an ad, and the lookup form. */
export function HomePage(props: HomeProps): string {
  const p = t(props.lang).post;
  return (
    <PublicPage lang={props.lang} title={p.pageTitle} here="/">
      <div class="intro">
        <h1 safe>{p.heading}</h1>
        <p safe>{p.intro}</p>
      </div>
      <PostAdForm {...props} />
      <LookupForm lang={props.lang} />
    </PublicPage>
  ) as string;
}
