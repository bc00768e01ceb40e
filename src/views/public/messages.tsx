import { Html } from "@kitajs/html";
import { LookupForm } from "./home";
import { PublicPage } from "./shell";

/** The answer to a successful POST /ads from a browser: the id, the message and the ad's link. */
export function SubmitSuccess({ id, message }: { id: string; message: string }): string {
  return (
    <div class="notice notice-success" role="status">
      <h2>Thank you!</h2>
      <p class="registered" safe>
        {message}
      </p>
      <p>We are checking the photo now and will e-mail you the outcome.</p>
      <p class="actions">
        <a class="button" href={`/ads/${encodeURIComponent(id)}`}>
          Follow your ad
        </a>
        <a href="/">Post another ad</a>
      </p>
    </div>
  ) as string;
}

/** A refused POST /ads from a browser: the server's message, shown next to the form. */
export function SubmitError({ message }: { message: string }): string {
  return (
    <div class="notice notice-error" role="alert">
      <p>
        <strong>Your ad was not posted.</strong> <span class="error-message" safe>{message}</span>
      </p>
    </div>
  ) as string;
}

/** POST /ads answered as a whole page (a browser without JavaScript). */
export function SubmitResultPage(props: { ok: true; id: string; message: string } | { ok: false; message: string }): string {
  return (
    <PublicPage title={props.ok ? "Ad registered" : "Ad not posted"}>
      <h1>{props.ok ? "Ad registered" : "Your ad was not posted"}</h1>
      {props.ok ? <SubmitSuccess id={props.id} message={props.message} /> : <SubmitError message={props.message} />}
      {!props.ok && (
        <p>
          <a href="/">Back to the form</a>
        </p>
      )}
    </PublicPage>
  ) as string;
}

/** A 404 for people: no such ad (or not an ad id at all), with the lookup form to try again. */
export function NotFoundPage(): string {
  return (
    <PublicPage title="Ad not found">
      <div class="card">
        <h1>We could not find that ad</h1>
        <p>
          Check the ID: it is in the confirmation you saw after posting and in our e-mail, and looks like{" "}
          <code>0190a5c2-7d1e-7c3b-9f2a-3e4d5c6b7a81</code>.
        </p>
        <p>
          <a href="/">Go to the home page</a>
        </p>
      </div>
      <LookupForm />
    </PublicPage>
  ) as string;
}

/** The final status fragment when a polled ad has disappeared (no hx-trigger: polling stops). */
export function AdGone(): string {
  return (
    <section id="ad-status" class="card status">
      <h1>We could not find that ad</h1>
      <p>
        <a href="/">Go to the home page</a>
      </p>
    </section>
  ) as string;
}

/** Any other error for people (e.g. 503 while a dependency is down), with the server's message. */
export function ErrorPage({ message }: { message: string }): string {
  return (
    <PublicPage title="Something went wrong">
      <div class="card">
        <h1>Something went wrong</h1>
        <p safe>{message}</p>
        <p>
          <a href="/">Go to the home page</a>
        </p>
      </div>
    </PublicPage>
  ) as string;
}
