import { Html } from "@kitajs/html";
import { categoryLabel, t, type Lang } from "../../i18n";
import { formatDate } from "../../i18n/format";
import { Arrow } from "./icons";
import { PublicPage } from "./shell";

/** One accepted ad in the public list (what GET /ads answers, one item). */
export interface ListItem {
  id: string;
  description: string;
  category: string;
  created_at: string;
  /** The small JPEG made once per accepted ad; the photo itself until it exists. */
  thumbnail_url: string;
  url: string;
}

export interface ListPage {
  items: ListItem[];
  /** The cursor of the next page; null on the last one. */
  next_cursor: string | null;
}

export interface BrowseProps {
  lang: Lang;
  page: ListPage;
  category?: string;
  q?: string;
  categories: string[];
  /** This page's path and query (the language switch returns here). */
  here: string;
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  return q.size ? `?${q}` : "";
}

/** The cards of one page of the list, and the link to the next one (also the htmx fragment). */
export function ListItems({ lang, page, category, q }: Omit<BrowseProps, "categories" | "here">): string {
  const c = t(lang).browse;
  if (!page.items.length) return (<p class="empty" safe>{q || category ? c.noMatch : c.empty}</p>) as string;
  const more = page.next_cursor ? `/ads${query({ category, q, cursor: page.next_cursor })}` : null;
  return (
    <>
      <ul class="ad-grid">
        {page.items.map((ad) => (
          <li class="ad-card">
            <a href={ad.url}>
              <img src={ad.thumbnail_url} alt="" loading="lazy" width="320" height="240" />
              <span class="ad-card-text" dir="auto" safe>
                {ad.description}
              </span>
            </a>
            <span class="ad-card-meta">
              <span class="category" data-category={ad.category} safe>
                {categoryLabel(lang, ad.category)}
              </span>{" "}
              <time datetime={ad.created_at} safe>
                {formatDate(lang, ad.created_at)}
              </time>
            </span>
          </li>
        ))}
      </ul>
      {more && (
        <p class="pager" id="more">
          <a href={more} hx-get={more} hx-target="#more" hx-swap="outerHTML">
            <span safe>{c.more}</span> <Arrow to="forward" />
          </a>
        </p>
      )}
    </>
  ) as string;
}

/** GET /ads for browsers: what is for sale, newest first, with a category filter and a search. */
export function BrowsePage(p: BrowseProps): string {
  const c = t(p.lang).browse;
  return (
    <PublicPage lang={p.lang} title={c.title} here={p.here}>
      <h1 safe>{c.heading}</h1>
      <form class="filters" method="get" action="/ads" role="search">
        <label>
          <span safe>{c.search}</span>
          <input type="search" name="q" value={p.q ?? ""} maxlength="100" dir="auto" />
        </label>
        <label>
          <span safe>{c.category}</span>
          <select name="category">
            <option value="" safe>
              {c.allCategories}
            </option>
            {p.categories.map((cat) => (
              <option value={cat} selected={cat === p.category} safe>
                {categoryLabel(p.lang, cat)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" safe>
          {c.apply}
        </button>
      </form>
      <section id="ads" aria-live="polite">
        <ListItems lang={p.lang} page={p.page} category={p.category} q={p.q} />
      </section>
    </PublicPage>
  ) as string;
}
