import { Html, type PropsWithChildren } from "@kitajs/html";
import { htmlAttrs, type Lang } from "../i18n";
import { assetUrl, FONT_URL } from "./assets/manifest";

/**
 * htmx settings that keep the page inside the CSP (no inline styles, no eval): htmx 4 would
 * otherwise adopt a constructed stylesheet for its request indicators (app.css styles them
 * instead). Pages must also avoid `hx-on`, `js:` values and trigger filters, which need eval.
 */
export const HTMX_CONFIG = JSON.stringify({ includeIndicatorCSS: false });

export interface PageProps {
  /** The page's language: `<html lang dir>` (default English, left to right). */
  lang?: Lang;
  /** The document title (user text allowed: it is escaped). */
  title: string;
  /** Extra attributes on <body>, e.g. `{"hx-headers:inherited": '{"X-CSRF-Token":"…"}'}` (escaped). */
  bodyAttrs?: Record<string, string>;
  /** The stylesheet's URL (default: the public pages' app.css). */
  stylesheet?: string;
  /** Further scripts (same-origin URLs, loaded deferred after htmx). */
  scripts?: string[];
}

/**
 * A complete HTML document in a language (`<html lang dir>`): head with the CSS, htmx and its
 * config, and `children` as the body. A Persian page preloads the Persian web font, which its
 * stylesheet uses for `:lang(fa)`.
 */
export function Page({ lang = "en", title, bodyAttrs, stylesheet, scripts, children }: PropsWithChildren<PageProps>): string {
  const attrs = htmlAttrs(lang);
  return (
    "<!doctype html>" +
    (
      <html lang={attrs.lang} dir={attrs.dir}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title safe>{title}</title>
          {lang === "fa" && <link rel="preload" href={FONT_URL} as="font" type="font/woff2" crossorigin="anonymous" />}
          <link rel="stylesheet" href={stylesheet ?? assetUrl("app.css")} />
          <link rel="icon" type="image/svg+xml" href={assetUrl("favicon.svg")} />
          <script src={assetUrl("htmx.min.js")} defer></script>
          {(scripts ?? []).map((src) => (
            <script src={src} defer></script>
          ))}
        </head>
        <body {...bodyAttrs}>{children}</body>
      </html>
    )
  );
}
