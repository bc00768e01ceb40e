/**
 * Persian and English for everything a person reads. One catalogue per language
 * (catalogue/en.ts is the reference, catalogue/fa.ts must match it key for key), the choice of
 * language for a request, and its direction on the page.
 *
 * Choosing: an explicit choice wins (`?lang=` on the URL, then the `lang` cookie that a
 * language switch sets), else the browser's Accept-Language (q-values honoured, `fa-IR` counts
 * as `fa`), else the deployment's default.
 */
import Negotiator from "negotiator";
import { en } from "./catalogue/en";
import { fa } from "./catalogue/fa";

export type Lang = "fa" | "en";

/** Every language the service speaks, in the order a language switch lists them. */
export const LANGS: readonly Lang[] = ["fa", "en"];

/** The cookie that remembers a person's explicit choice of language. */
export const LANG_COOKIE = "lang";

/**
 * A catalogue's shape, derived from the English one: the same key tree, with `string` where
 * English has a string and a function of the same parameters, returning a string, where English
 * has a function. So a key missing from another language is a type error.
 */
export type Widen<T> = T extends string
  ? string
  : T extends (...args: infer A) => string
    ? (...args: A) => string
    : { readonly [K in keyof T]: Widen<T[K]> };

export type Catalogue = Widen<typeof en>;

const CATALOGUES: Record<Lang, Catalogue> = { fa, en };

/** The strings of one language. */
export function t(lang: Lang): Catalogue {
  return CATALOGUES[lang];
}

/** The text direction of a language, for `<html dir>`. */
export function dir(lang: Lang): "rtl" | "ltr" {
  return lang === "fa" ? "rtl" : "ltr";
}

/** The attributes of a page's `<html>` element in a language. */
export function htmlAttrs(lang: Lang): { lang: Lang; dir: "rtl" | "ltr" } {
  return { lang, dir: dir(lang) };
}

/** Whether a value is one of `LANGS`. */
export function isLang(value: unknown): value is Lang {
  return value === "fa" || value === "en";
}

/**
 * A language from an explicit choice (`?lang=`, the cookie): "fa", "en", or a tag whose primary
 * subtag is one of them ("fa-IR", "EN_us"); anything else is null, so it is ignored.
 */
export function parseLang(value: string | null | undefined): Lang | null {
  const m = /^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*\s*$/.exec(value ?? "");
  const primary = m?.[1]!.toLowerCase();
  return isLang(primary) ? primary : null;
}

export interface LanguageHints {
  /** The `lang` query parameter. */
  query?: string | null;
  /** The `lang` cookie's value. */
  cookie?: string | null;
  /** The Accept-Language header. */
  acceptLanguage?: string | null;
  /** The deployment's default, for when nothing else decides. */
  fallback: Lang;
}

/**
 * The language for a request: `?lang=`, then the cookie, then Accept-Language (best q-value;
 * a region such as `fa-IR` matches its language; `*` means the fallback), then the fallback.
 * An unknown value at any step is skipped, never an error.
 */
export function negotiateLanguage({ query, cookie, acceptLanguage, fallback }: LanguageHints): Lang {
  const explicit = parseLang(query) ?? parseLang(cookie);
  if (explicit) return explicit;
  if (acceptLanguage && acceptLanguage.trim()) {
    // The fallback first: `*` and equal preferences resolve to it rather than to list order.
    const offered = [fallback, ...LANGS.filter((l) => l !== fallback)];
    const best = new Negotiator({ headers: { "accept-language": acceptLanguage } }).language(offered);
    if (isLang(best)) return best;
  }
  return fallback;
}

/**
 * A vehicle category (a tagger's tag, or an operator's word) in a language: a known tag is
 * translated (case and surrounding space ignored); anything else is shown as it is.
 */
export function categoryLabel(lang: Lang, tag: string): string {
  const key = tag.trim().toLowerCase();
  const labels = t(lang).categories as Readonly<Record<string, string>>;
  return Object.hasOwn(labels, key) ? labels[key]! : tag;
}

/** What differs in shape between two catalogue trees (empty when they match). */
export function catalogueProblems(reference: unknown, candidate: unknown, path = ""): string[] {
  const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  const rk = kind(reference);
  const ck = kind(candidate);
  const at = path || "(root)";
  if (rk !== ck) return [`${at}: expected ${rk}, found ${ck}`];
  if (rk === "string") return (candidate as string).trim() ? [] : [`${at}: empty string`];
  if (rk === "function") {
    const ra = (reference as (...a: unknown[]) => unknown).length;
    const ca = (candidate as (...a: unknown[]) => unknown).length;
    return ra === ca ? [] : [`${at}: expected ${ra} parameter(s), found ${ca}`];
  }
  if (rk !== "object") return [`${at}: unexpected ${rk}`];
  const r = reference as Record<string, unknown>;
  const c = candidate as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(r)) {
    const sub = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(c, key)) problems.push(`${sub}: missing`);
    else problems.push(...catalogueProblems(r[key], c[key], sub));
  }
  for (const key of Object.keys(c)) if (!Object.hasOwn(r, key)) problems.push(`${path ? `${path}.${key}` : key}: not in the reference`);
  return problems;
}

/**
 * Throws when a catalogue does not match the English one at run time: what the type cannot
 * see (a function that takes fewer parameters, an empty string). Tests and start-up call it.
 */
export function assertCataloguesMatch(): void {
  const problems = LANGS.filter((l) => l !== "en").flatMap((l) => catalogueProblems(en, CATALOGUES[l]).map((p) => `${l}: ${p}`));
  if (problems.length) throw new Error(`the catalogues differ:\n${problems.join("\n")}`);
}
