import { Elysia } from "elysia";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ad-service API</title>
  <link rel="stylesheet" href="/swagger/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/assets/swagger-ui-bundle.js"></script>
  <script src="/swagger/assets/docs-init.js"></script>
</body>
</html>`;

// Swagger UI sets inline styles; everything else stays 'self' (the binary works offline).
const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

// Served as a file so that the page's CSP needs no inline script.
const INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/swagger/json", dom_id: "#swagger-ui", deepLinking: true });
});
`;

const asset = (path: string, type: string) => () =>
  new Response(Bun.file(path), { headers: { "content-type": type, "cache-control": "public, max-age=86400" } });

/** The API docs page (Swagger UI, embedded: no CDN) at /swagger; the spec itself is at /swagger/json. */
export function docsRoutes() {
  return new Elysia({ name: "docs" })
    .get("/swagger", ({ set }) => {
      set.headers["content-security-policy"] = DOCS_CSP;
      set.headers["content-type"] = "text/html; charset=utf-8";
      return PAGE;
    }, { detail: { hide: true } })
    .get("/swagger/assets/swagger-ui-bundle.js", asset(bundle, "text/javascript; charset=utf-8"), { detail: { hide: true } })
    .get("/swagger/assets/swagger-ui.css", asset(css, "text/css; charset=utf-8"), { detail: { hide: true } })
    .get("/swagger/assets/docs-init.js", () => new Response(INIT_JS, { headers: { "content-type": "text/javascript; charset=utf-8" } }), {
      detail: { hide: true },
    });
}
