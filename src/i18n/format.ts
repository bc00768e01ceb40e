/**
 * Dates, numbers and sizes for people, per language. Persian uses the Solar Hijri calendar on
 * Tehran's clock and Persian digits (۰-۹) with Persian separators; English uses the Gregorian
 * calendar on UTC, as the pages did before there was a choice of language.
 *
 * The locales are spelled out in full (`-u-ca-persian-nu-arabext`) rather than left to ICU's
 * defaults for `fa-IR`, so a different ICU build cannot silently switch calendar or digits.
 * Formatters are built once: constructing an Intl formatter costs far more than using one.
 */
import type { Lang } from "./index";

const FA_LOCALE = "fa-IR-u-ca-persian-nu-arabext";
const EN_LOCALE = "en-GB";

const DATE: Record<Lang, Intl.DateTimeFormat> = {
  fa: new Intl.DateTimeFormat(FA_LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Tehran" }),
  en: new Intl.DateTimeFormat(EN_LOCALE, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }),
};

const NUMBER: Record<Lang, Intl.NumberFormat> = {
  fa: new Intl.NumberFormat(FA_LOCALE),
  en: new Intl.NumberFormat(EN_LOCALE),
};

/**
 * A timestamp for people: fa "۱۱ آذر ۱۴۰۵، ۱۶:۰۰" (Solar Hijri, Tehran time), en
 * "2 Dec 2026, 12:30 UTC". Throws a RangeError for an invalid date, as Intl does.
 */
export function formatDate(lang: Lang, date: Date | string | number): string {
  const d = date instanceof Date ? date : new Date(date);
  const text = DATE[lang].format(d);
  return lang === "en" ? `${text} UTC` : text;
}

// The catalogues use a handful of option sets; this stays that small.
const WITH_OPTIONS = new Map<string, Intl.NumberFormat>();

/** A number for people: fa "۱۲٬۳۴۵٫۶" (Persian digits and separators), en "12,345.6". */
export function formatNumber(lang: Lang, n: number, options?: Intl.NumberFormatOptions): string {
  if (!options) return NUMBER[lang].format(n);
  const key = `${lang} ${JSON.stringify(options)}`;
  let f = WITH_OPTIONS.get(key);
  if (!f) WITH_OPTIONS.set(key, (f = new Intl.NumberFormat(lang === "fa" ? FA_LOCALE : EN_LOCALE, options)));
  return f.format(n);
}

const UNITS: Record<Lang, { mb: string; kb: string; bytes: string }> = {
  fa: { mb: "مگابایت", kb: "کیلوبایت", bytes: "بایت" },
  en: { mb: "MB", kb: "KB", bytes: "bytes" },
};

/** A size for people ("10 MB" for 10 MiB, "۱۰ مگابایت" in Persian), as the form's hint shows it. */
export function formatBytes(lang: Lang, n: number): string {
  const u = UNITS[lang];
  if (n >= 1024 * 1024) return `${formatNumber(lang, Math.round((n / (1024 * 1024)) * 10) / 10)} ${u.mb}`;
  if (n >= 1024) return `${formatNumber(lang, Math.round(n / 1024))} ${u.kb}`;
  return `${formatNumber(lang, n)} ${u.bytes}`;
}

/** Replaces ASCII digits (and Arabic-Indic ٠-٩) with Persian digits ۰-۹; everything else stays. */
export function toPersianDigits(s: string): string {
  return s.replace(/[0-9\u0660-\u0669]/g, (c) => {
    const code = c.charCodeAt(0);
    return String.fromCharCode(0x06f0 + (code >= 0x0660 ? code - 0x0660 : code - 0x30));
  });
}
