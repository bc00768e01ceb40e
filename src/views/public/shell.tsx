import { Html, type PropsWithChildren } from "@kitajs/html";
import { dir, LANGS, t, type Lang } from "../../i18n";
import { assetUrl } from "../assets/manifest";
import { Page } from "../layout";

export interface PublicPageProps {
  /** The reader's language: every string on the page is in it. */
  lang: Lang;
  /** The page's own title (the site's name is added). */
  title: string;
  /** Where the language switch leads back to: this page's path and query (default: the home page). */
  here?: string;
}

/** The link that shows `here` (a path, with any query) in `lang` and remembers the choice. */
export function switchHref(here: string, lang: Lang): string {
  // One leading slash, always: "//host/…" would be a link to another site.
  const url = new URL("/" + here.replace(/^[/\\]+/, ""), "http://x");
  url.searchParams.set("lang", lang);
  return url.pathname.replace(/^\/+/, "/") + url.search + url.hash;
}

/**
 * The language switch: a link to this same page in each other language (`?lang=`, which the
 * server remembers in the `lang` cookie). Plain links, so no script is needed. Each language is
 * named in itself, marked with its own `lang` and direction.
 */
export function LanguageSwitch({ lang, here = "/" }: { lang: Lang; here?: string }): string {
  const c = t(lang).common.language;
  return (
    <nav class="lang-switch" aria-label={c.label}>
      {LANGS.filter((l) => l !== lang).map((l) => (
        <a href={switchHref(here, l)} hreflang={l} lang={l} dir={dir(l)} rel="alternate" safe>
          {c[l]}
        </a>
      ))}
    </nav>
  ) as string;
}

/**
 * What every htmx request from a page sends: its language as Accept-Language, so a fragment
 * swapped in (the form's answer, the status polls) is in the page's language even when that came
 * from `?lang=` and the browser keeps no cookie, or prefers another language.
 */
function pageRequestHeaders(lang: Lang): Record<string, string> {
  return { "hx-headers:inherited": JSON.stringify({ "Accept-Language": lang }) };
}

/** A public page: the site header with the language switch, the content in <main>, and a footer. */
export function PublicPage({ lang, title, here, children }: PropsWithChildren<PublicPageProps>): string {
  const c = t(lang).common;
  return (
    <Page lang={lang} title={c.pageTitle(title)} bodyAttrs={pageRequestHeaders(lang)}>
      <a class="skip-link" href="#main" safe>
        {c.skipToContent}
      </a>
      <header class="site-header">
        <div class="wrap header-row">
          <a class="brand" href="/">
            <img src={assetUrl("favicon.svg")} alt="" width="28" height="28" />
            <span safe>{c.siteName}</span>
          </a>
          <LanguageSwitch lang={lang} here={here} />
        </div>
      </header>
      <main id="main" class="wrap">
        {children}
      </main>
      <footer class="site-footer">
        <div class="wrap">
          <a href="/" safe>
            {c.nav.postAd}
          </a>
          <a href="/ads" safe>
            {c.nav.browse}
          </a>
          <a href="/#lookup" safe>
            {c.nav.checkAd}
          </a>
          <a href="/swagger" safe>
            {c.nav.api}
          </a>
        </div>
      </footer>
    </Page>
  ) as string;
}
