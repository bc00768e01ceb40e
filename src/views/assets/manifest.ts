/**
 * The static files of the web pages. They are embedded in the binary (`type: "file"` imports),
 * so nothing is fetched from a CDN at run time, and each is linked under a content-hashed URL so
 * it can be cached for a year and still change with a new release.
 * (The files are imported as "../assets/…" so that the declarations in src/types.d.ts match.)
 */
import htmx from "htmx.org/dist/htmx.min.js" with { type: "file" };
import css from "../assets/app.css" with { type: "file" };
import icon from "../assets/favicon.svg" with { type: "file" };
import vazirmatn from "vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2" with { type: "file" };
import vazirmatnLicence from "vazirmatn/OFL.txt" with { type: "file" };

export interface StaticAsset {
  /** Path of the embedded file (a `$bunfs` path inside the binary). */
  file: string;
  contentType: string;
  /** Short content hash, used as the `?v=` of the URL. */
  version: string;
}

const FILES: Record<string, { file: string; contentType: string }> = {
  "app.css": { file: css, contentType: "text/css; charset=utf-8" },
  "htmx.min.js": { file: htmx, contentType: "text/javascript; charset=utf-8" },
  "favicon.svg": { file: icon, contentType: "image/svg+xml" },
};

/** Every static file by its name under /assets/. */
export const STATIC_ASSETS: ReadonlyMap<string, StaticAsset> = new Map(
  await Promise.all(
    Object.entries(FILES).map(async ([name, a]) => {
      const version = Bun.hash(await Bun.file(a.file).bytes()).toString(36).slice(0, 10);
      return [name, { ...a, version }] as const;
    }),
  ),
);

/** The URL a page links a static file by (cache-busted by its content hash). */
export function assetUrl(name: keyof typeof FILES & string): string {
  const a = STATIC_ASSETS.get(name);
  if (!a) throw new Error(`unknown asset ${name}`);
  return `/assets/${name}?v=${a.version}`;
}

/**
 * The Persian web font (Vazirmatn, variable weight, SIL Open Font License) and its licence, at
 * /assets/fonts/<name>. The URLs are fixed, not content-hashed: app.css and the dashboard's
 * admin.css name them in `@font-face`. The font only changes with the pinned `vazirmatn`
 * version in package.json, so it is still cached for a year.
 */
export const FONT_ASSETS: ReadonlyMap<string, { file: string; contentType: string }> = new Map([
  ["vazirmatn.woff2", { file: vazirmatn, contentType: "font/woff2" }],
  ["OFL.txt", { file: vazirmatnLicence, contentType: "text/plain; charset=utf-8" }],
]);

/** The web font's URL, as the stylesheets name it. */
export const FONT_URL = "/assets/fonts/vazirmatn.woff2";
