import { Html, type PropsWithChildren } from "@kitajs/html";
import { Page } from "../layout";

export type AdminSection = "queue" | "overview" | "outbox";

function Document({ title, children, bodyAttrs }: PropsWithChildren<{ title: string; bodyAttrs?: Record<string, string> }>) {
  return (
    <Page title={title} bodyAttrs={bodyAttrs} stylesheet="/admin-assets/admin.css" scripts={["/admin-assets/admin.js"]}>
      {children}
    </Page>
  );
}

/** Every signed-in admin page: navigation, and the CSRF token that htmx sends on every request. */
export function AdminPage({ title, csrf, section, children }: PropsWithChildren<{ title: string; csrf: string; section: AdminSection }>) {
  const nav: Array<[AdminSection, string, string]> = [
    ["queue", "/admin", "Queue"],
    ["overview", "/admin/overview", "Overview"],
    ["outbox", "/admin/outbox", "Outbox"],
  ];
  return (
    <Document title={`${title} · ad-service admin`} bodyAttrs={{ "hx-headers:inherited": JSON.stringify({ "X-CSRF-Token": csrf }) }}>
      <header class="top">
        <a class="brand" href="/admin">
          ad-service <span>admin</span>
        </a>
        <nav aria-label="Sections">
          {nav.map(([key, href, label]) => (
            <a href={href} aria-current={key === section ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <form method="post" action="/admin/logout" class="logout">
          <input type="hidden" name="_csrf" value={csrf} />
          <button type="submit" class="link">
            Sign out
          </button>
        </form>
      </header>
      <main id="main">{children}</main>
    </Document>
  );
}

/** The sign-in form. */
export function LoginPage({ error, status }: { error?: string; status?: string }) {
  return (
    <Document title="Sign in · ad-service admin">
      <main class="login">
        <h1>ad-service admin</h1>
        <form method="post" action="/admin/login" class="card">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required autofocus />
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
          <button type="submit">Sign in</button>
        </form>
      </main>
    </Document>
  );
}
