import { escapeHtml, Html } from "@kitajs/html";
import { t, type Lang } from "../../i18n";
import { LookupForm } from "./home";
import { Arrow } from "./icons";
import { PublicPage } from "./shell";

/** An ad id inside a sentence: isolated and left to right, so a Persian sentence keeps its order. */
export function adIdMarkup(id: string): string {
  return `<bdi class="ad-id" dir="ltr">${escapeHtml(id)}</bdi>`;
}

/** The answer to a successful POST /ads from a browser: the id, the message and the ad's link. */
export function SubmitSuccess({ lang, id, manageUrl }: { lang: Lang; id: string; manageUrl?: string }): string {
  const c = t(lang);
  // The catalogue inserts parameters verbatim: the id goes in as escaped, isolated markup.
  const safeRegistered = c.status.registered(adIdMarkup(id));
  return (
    <div class="notice notice-success" role="status">
      <h2 safe>{c.post.success.heading}</h2>
      <p class="registered">{safeRegistered}</p>
      <p safe>{c.post.success.checking}</p>
      <p class="actions">
        <a class="button" href={`/ads/${encodeURIComponent(id)}`}>
          <span safe>{c.post.success.follow}</span> <Arrow to="forward" />
        </a>
        <a href="/" safe>
          {c.post.success.another}
        </a>
      </p>
      {manageUrl && (
        <p class="manage-link">
          <span safe>{c.post.success.manageLead}</span>{" "}
          <a href={manageUrl} dir="ltr" rel="nofollow noreferrer" safe>
            {manageUrl}
          </a>
        </p>
      )}
    </div>
  ) as string;
}

/** A refused POST /ads from a browser: the server's message (already in `lang`), shown next to the form. */
export function SubmitError({ lang, message }: { lang: Lang; message: string }): string {
  return (
    <div class="notice notice-error" role="alert">
      <p>
        <strong safe>{t(lang).post.failure.lead}</strong>{" "}
        <span class="error-message" safe>
          {message}
        </span>
      </p>
    </div>
  ) as string;
}

/** POST /ads answered as a whole page (a browser without JavaScript). */
export function SubmitResultPage(props: { lang: Lang } & ({ ok: true; id: string; manageUrl?: string } | { ok: false; message: string })): string {
  const { lang } = props;
  const r = t(lang).post.result;
  // The language switch on a confirmation leads to the ad's page; on a refusal, to the form.
  const here = props.ok ? `/ads/${encodeURIComponent(props.id)}` : "/";
  return (
    <PublicPage lang={lang} title={props.ok ? r.registeredTitle : r.notPostedTitle} here={here}>
      <h1 safe>{props.ok ? r.registeredHeading : r.notPostedHeading}</h1>
      {props.ok ? <SubmitSuccess lang={lang} id={props.id} manageUrl={props.manageUrl} /> : <SubmitError lang={lang} message={props.message} />}
      {!props.ok && (
        <p>
          <a href="/">
            <Arrow to="back" /> <span safe>{t(lang).post.failure.back}</span>
          </a>
        </p>
      )}
    </PublicPage>
  ) as string;
}

/** The link back to the home page, on error pages. */
function HomeLink({ lang }: { lang: Lang }): string {
  return (
    <p>
      <a href="/">
        <Arrow to="back" /> <span safe>{t(lang).common.goHome}</span>
      </a>
    </p>
  ) as string;
}

/** A 404 for people: no such ad (or not an ad id at all), with the lookup form to try again. */
export function NotFoundPage({ lang, here }: { lang: Lang; here?: string }): string {
  const n = t(lang).ad.notFound;
  return (
    <PublicPage lang={lang} title={n.title} here={here}>
      <div class="card">
        <h1 safe>{n.heading}</h1>
        <p>
          <span safe>{n.checkId}</span>{" "}
          <code dir="ltr">0190a5c2-7d1e-7c3b-9f2a-3e4d5c6b7a81</code>
        </p>
        <HomeLink lang={lang} />
      </div>
      <LookupForm lang={lang} />
    </PublicPage>
  ) as string;
}

/** The final status fragment when a polled ad has disappeared (no hx-trigger: polling stops). */
export function AdGone({ lang }: { lang: Lang }): string {
  return (
    <section id="ad-status" class="card status">
      <h1 safe>{t(lang).ad.notFound.heading}</h1>
      <HomeLink lang={lang} />
    </section>
  ) as string;
}

/** Any other error for people (e.g. 503 while a dependency is down), with the server's message. */
export function ErrorPage({ lang, here, message }: { lang: Lang; here?: string; message: string }): string {
  const e = t(lang).ad.error;
  return (
    <PublicPage lang={lang} title={e.title} here={here}>
      <div class="card">
        <h1 safe>{e.heading}</h1>
        <p safe>{message}</p>
        <HomeLink lang={lang} />
      </div>
    </PublicPage>
  ) as string;
}
