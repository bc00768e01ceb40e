import { Html, type PropsWithChildren } from "@kitajs/html";
import { assetUrl } from "../assets/manifest";
import { Page } from "../layout";

const SITE = "Vehicle ads";

/** A public page: the site header, the content in <main>, and a footer. */
export function PublicPage({ title, children }: PropsWithChildren<{ title: string }>): string {
  return (
    <Page title={`${title} · ${SITE}`}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class="wrap">
          <a class="brand" href="/">
            <img src={assetUrl("favicon.svg")} alt="" width="28" height="28" />
            {SITE}
          </a>
        </div>
      </header>
      <main id="main" class="wrap">
        {children}
      </main>
      <footer class="site-footer">
        <div class="wrap">
          <a href="/">Post an ad</a>
          <a href="/#lookup">Check an ad</a>
          <a href="/swagger">API</a>
        </div>
      </footer>
    </Page>
  ) as string;
}
