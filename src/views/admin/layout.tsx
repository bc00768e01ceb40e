import { Html, type PropsWithChildren } from "@kitajs/html";
import type { SessionOperator } from "../../admin/auth";
import { t, type Lang } from "../../i18n";
import { Page } from "../layout";

export type AdminSection = "queue" | "overview" | "outbox" | "operators" | "account";

function Document({ lang, title, children, bodyAttrs }: PropsWithChildren<{ lang: Lang; title: string; bodyAttrs?: Record<string, string> }>) {
  return (
    <Page lang={lang} title={t(lang).admin.pageTitle(title)} bodyAttrs={bodyAttrs} stylesheet="/admin-assets/admin.css" scripts={["/admin-assets/admin.js"]}>
      {children}
    </Page>
  );
}

/**
 * Every signed-in admin page, in the operator's language: navigation (the operators page for
 * admins only), the signed-in operator, and the headers htmx sends on every request (the CSRF
 * token, and the page's language so that fragments come back in it).
 */
export function AdminPage({ lang, title, csrf, section, operator, children }: PropsWithChildren<{ lang: Lang; title: string; csrf: string; section: AdminSection; operator: SessionOperator }>) {
  const m = t(lang).admin;
  const nav: Array<[AdminSection, string, string]> = [
    ["queue", "/admin", m.nav.queue],
    ["overview", "/admin/overview", m.nav.overview],
    ["outbox", "/admin/outbox", m.nav.outbox],
  ];
  if (operator.role === "admin") nav.push(["operators", "/admin/operators", m.nav.operators]);
  return (
    <Document lang={lang} title={title} bodyAttrs={{ "hx-headers:inherited": JSON.stringify({ "X-CSRF-Token": csrf, "X-Admin-Lang": lang }) }}>
      <header class="top">
        <a class="brand" href="/admin">
          <bdi>{m.brand}</bdi> <span>{m.brandSuffix}</span>
        </a>
        <nav aria-label={m.nav.label}>
          {nav.map(([key, href, label]) => (
            <a href={href} aria-current={key === section ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <a class="me" href="/admin/account" aria-current={section === "account" ? "page" : undefined} title={m.nav.account}>
          <bdi class="operator-name" safe>
            {operator.displayName ?? operator.name}
          </bdi>
        </a>
        <form method="post" action="/admin/logout" class="logout">
          <input type="hidden" name="_csrf" value={csrf} />
          <button type="submit" class="link">
            {m.signOut}
          </button>
        </form>
      </header>
      <main id="main">{children}</main>
    </Document>
  );
}

/** The sign-in form: a name (empty: the bootstrap `admin`) and a password. */
export function LoginPage({ lang, error, status, name }: { lang: Lang; error?: string; status?: string; name?: string }) {
  const m = t(lang).admin.login;
  return (
    <Document lang={lang} title={m.title}>
      <main class="login">
        <h1>{m.heading}</h1>
        <form method="post" action="/admin/login" class="card">
          <label for="name">{m.name}</label>
          <input id="name" name="name" type="text" dir="auto" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="40" value={name ?? ""} aria-describedby="name-hint" autofocus />
          <small id="name-hint" class="hint">
            {m.nameHint}
          </small>
          <label for="password">{m.password}</label>
          <input id="password" name="password" type="password" dir="ltr" autocomplete="current-password" required />
          {error ? (
            <p class="error" role="alert" safe>
              {error}
            </p>
          ) : (
            ""
          )}
          {status ? (
            <p class="note" safe>
              {status}
            </p>
          ) : (
            ""
          )}
          <button type="submit">{m.submit}</button>
        </form>
      </main>
    </Document>
  );
}
