import { describe, expect, test } from "bun:test";
import { en } from "../../src/i18n/catalogue/en";
import { fa } from "../../src/i18n/catalogue/fa";
import {
  assertCataloguesMatch,
  catalogueProblems,
  categoryLabel,
  dir,
  LANG_COOKIE,
  LANGS,
  negotiateLanguage,
  parseLang,
  t,
  type Lang,
} from "../../src/i18n";
import { formatBytes, formatDate, formatNumber, toPersianDigits } from "../../src/i18n/format";
import { charLength, nfc, normalizeForSearch } from "../../src/i18n/text";

type Leaf = { path: string; kind: "string" | "function"; arity: number; value: unknown };

/** Every leaf of a catalogue tree, with its dotted path. */
function leaves(node: unknown, path = ""): Leaf[] {
  if (typeof node === "string") return [{ path, kind: "string", arity: 0, value: node }];
  if (typeof node === "function") return [{ path, kind: "function", arity: node.length, value: node }];
  if (node === null || typeof node !== "object") throw new Error(`${path}: neither string, function nor object`);
  return Object.entries(node).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

/** Calls a catalogue function with sample arguments of the right kind (numbers where it formats). */
function sample(fn: (...args: never[]) => string): string {
  const args = Array.from({ length: fn.length }, (_, i) => 1234 + i);
  return (fn as (...a: unknown[]) => string)(...args);
}

const ZWNJ = "\u200c";
const PERSIAN_DIGIT = /[۰-۹]/;
const ASCII_DIGIT = /[0-9]/;

describe("catalogues", () => {
  const enLeaves = new Map(leaves(en).map((l) => [l.path, l]));
  const faLeaves = new Map(leaves(fa).map((l) => [l.path, l]));

  test("every English key is in Persian, with the same kind and arity", () => {
    const problems: string[] = [];
    for (const [path, e] of enLeaves) {
      const f = faLeaves.get(path);
      if (!f) problems.push(`${path}: missing in fa`);
      else if (f.kind !== e.kind) problems.push(`${path}: ${e.kind} in en, ${f.kind} in fa`);
      else if (f.arity !== e.arity) problems.push(`${path}: ${e.arity} parameter(s) in en, ${f.arity} in fa`);
    }
    expect(problems).toEqual([]);
  });

  test("every Persian key is in English", () => {
    expect([...faLeaves.keys()].filter((p) => !enLeaves.has(p))).toEqual([]);
  });

  test("the catalogues are not trivially small, and every area is there", () => {
    expect(Object.keys(en).sort()).toEqual(["ad", "admin", "browse", "categories", "common", "email", "errors", "manage", "post", "status"]);
    expect(enLeaves.size).toBeGreaterThan(200);
  });

  test("the runtime check agrees, and catches what the type cannot", () => {
    expect(() => assertCataloguesMatch()).not.toThrow();
    expect(catalogueProblems(en, fa)).toEqual([]);
    // A translation that drops a parameter type-checks (fewer parameters are assignable) but is wrong.
    const broken = { ...fa, email: { ...fa.email, acceptedSubject: () => "آگهی شما تأیید شد" }, common: { ...fa.common, goHome: " " } };
    const problems = catalogueProblems(en, { ...broken, errors: { ...fa.errors, rateLimited: undefined, surplus: "x" } });
    expect(problems).toContain("email.acceptedSubject: expected 1 parameter(s), found 0");
    expect(problems).toContain("common.goHome: empty string");
    expect(problems).toContain("errors.rateLimited: expected string, found undefined");
    expect(problems).toContain("errors.surplus: not in the reference");
  });

  test("every entry produces non-empty text in both languages", () => {
    for (const lang of LANGS) {
      for (const l of leaves(t(lang))) {
        const text = l.kind === "string" ? (l.value as string) : sample(l.value as (...a: never[]) => string);
        if (!text.trim()) throw new Error(`${lang} ${l.path} is empty`);
      }
    }
  });

  test("Persian text uses Persian letters, and ZWNJ where the orthography needs it", () => {
    const texts = leaves(fa).map((l) => [l.path, l.kind === "string" ? (l.value as string) : sample(l.value as (...a: never[]) => string)] as const);
    for (const [path, text] of texts) {
      // Arabic yeh and kaf are different code points from Persian ی and ک: search and sorting break.
      expect({ path, arabic: /[\u064a\u0643\u0649]/.test(text) }).toEqual({ path, arabic: false });
      // "می شود" with a space (or glued "میشود") instead of "می‌شود".
      expect({ path, mi: /(^|[^\u0600-\u06ff\u200c])(ن?می)[ ](?=[\u0600-\u06ff])/.test(text) }).toEqual({ path, mi: false });
      // A number formatted for Persian readers never shows ASCII digits (ids and file types may).
      if (/ثانیه|دقیقه|ساعت پیش|روز پیش|کاراکتر|آگهی از/.test(text)) expect({ path, ascii: ASCII_DIGIT.test(text.replace(/UTC/g, "")) }).toEqual({ path, ascii: false });
    }
    expect(fa.status.accepted).toBe("آگهی شما تأیید شد");
    expect(fa.admin.queue.heading).toBe(`آگهی${ZWNJ}ها`);
    expect(fa.status.pendingText).toContain(`می${ZWNJ}شود`);
    expect(fa.common.nav.postAd).toBe("ثبت آگهی");
    expect(fa.errors.descriptionTooLong(5000)).toContain("۵٬۰۰۰");
    expect(en.errors.descriptionTooLong(5000)).toBe("description must be at most 5000 characters");
  });

  test("the e-mail texts carry their arguments, and the rejection reason defaults as before", () => {
    expect(en.email.defaultRejectReason).toBe("We could not find a vehicle in the photo.");
    expect(en.email.acceptedSubject("car")).toBe("Your ad was accepted (car)");
    const text = fa.email.acceptedLead("پراید ۱۳۹۰", categoryLabel("fa", "car"));
    expect(text).toContain("«پراید ۱۳۹۰»");
    expect(text).toContain("«خودرو»");
    expect(fa.email.rejectedLead("q", fa.email.defaultRejectReason)).toContain(fa.email.defaultRejectReason);
  });
});

describe("language choice", () => {
  const fallback: Lang = "en";

  test("query beats cookie beats Accept-Language beats the fallback", () => {
    expect(negotiateLanguage({ query: "fa", cookie: "en", acceptLanguage: "en", fallback })).toBe("fa");
    expect(negotiateLanguage({ query: "en", cookie: "fa", acceptLanguage: "fa", fallback: "fa" })).toBe("en");
    expect(negotiateLanguage({ cookie: "fa", acceptLanguage: "en", fallback })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "fa", fallback })).toBe("fa");
    expect(negotiateLanguage({ fallback })).toBe("en");
    expect(negotiateLanguage({ fallback: "fa" })).toBe("fa");
  });

  test("Accept-Language: q-values, regions, unknown languages, wildcards", () => {
    expect(negotiateLanguage({ acceptLanguage: "fa-IR;q=0.9,en;q=0.8", fallback })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "fa-IR,fa;q=0.9,en-US;q=0.8,en;q=0.7", fallback })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "en-US,en;q=0.9,fa;q=0.8", fallback: "fa" })).toBe("en");
    expect(negotiateLanguage({ acceptLanguage: "en;q=0.2, fa;q=0.5", fallback })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "en;q=0, fa;q=0.1", fallback })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "de", fallback })).toBe("en");
    expect(negotiateLanguage({ acceptLanguage: "de", fallback: "fa" })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "de, *;q=0.1", fallback: "fa" })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "*", fallback })).toBe("en");
    expect(negotiateLanguage({ acceptLanguage: "", fallback: "fa" })).toBe("fa");
    expect(negotiateLanguage({ acceptLanguage: "   ", fallback })).toBe("en");
    expect(negotiateLanguage({ acceptLanguage: ";;;,,q=", fallback: "fa" })).toBe("fa");
  });

  test("an invalid explicit choice is ignored, not obeyed", () => {
    expect(negotiateLanguage({ query: "xx", acceptLanguage: "fa", fallback })).toBe("fa");
    expect(negotiateLanguage({ query: "xx", cookie: "fa", fallback })).toBe("fa");
    expect(negotiateLanguage({ query: "", cookie: "de", acceptLanguage: null, fallback: "fa" })).toBe("fa");
    expect(negotiateLanguage({ query: "<script>", cookie: "fa;en", fallback })).toBe("en");
    expect(negotiateLanguage({ query: "FA-ir", fallback })).toBe("fa");
    expect(parseLang("en_US")).toBe("en");
    expect(parseLang("english")).toBeNull();
    expect(parseLang(undefined)).toBeNull();
  });

  test("direction and the constants", () => {
    expect(dir("fa")).toBe("rtl");
    expect(dir("en")).toBe("ltr");
    expect([...LANGS]).toEqual(["fa", "en"]);
    expect(LANG_COOKIE).toBe("lang");
    expect(t("fa")).toBe(fa);
    expect(t("en")).toBe(en);
  });
});

describe("categories", () => {
  test("known tags are translated, unknown ones pass through", () => {
    expect(categoryLabel("fa", "car")).toBe("خودرو");
    expect(categoryLabel("fa", "Motorcycle ")).toBe("موتورسیکلت");
    expect(categoryLabel("fa", "motor vehicle")).toBe("وسیله نقلیه موتوری");
    expect(categoryLabel("fa", "bicycle")).toBe("دوچرخه");
    expect(categoryLabel("fa", "truck")).toBe("کامیون");
    expect(categoryLabel("fa", "vehicle")).toBe("وسیله نقلیه");
    expect(categoryLabel("en", "car")).toBe("car");
    expect(categoryLabel("fa", "hovercraft")).toBe("hovercraft");
    expect(categoryLabel("fa", "Vintage Roadster")).toBe("Vintage Roadster");
    expect(categoryLabel("fa", "toString")).toBe("toString");
    expect(categoryLabel("fa", "__proto__")).toBe("__proto__");
  });

  test("every vehicle class the offline detector produces has a Persian label", () => {
    for (const tag of ["bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "vehicle", "motor vehicle"]) {
      expect({ tag, translated: categoryLabel("fa", tag) !== tag }).toEqual({ tag, translated: true });
    }
  });
});

describe("formatting", () => {
  test("a Persian date is Solar Hijri, on Tehran's clock, in Persian digits", () => {
    const s = formatDate("fa", new Date("2026-12-02T12:30:00Z"));
    expect(s).toContain("۱۴۰۵");
    expect(s).toContain("آذر");
    expect(s).toContain("۱۶:۰۰"); // UTC+3:30
    expect(PERSIAN_DIGIT.test(s)).toBe(true);
    expect(ASCII_DIGIT.test(s)).toBe(false);
    // Nowruz: midnight in Tehran is already the new year, though it is still 20 March in UTC.
    expect(formatDate("fa", "2026-03-20T20:30:00Z")).toContain("۱ فروردین ۱۴۰۵");
    expect(formatDate("fa", "2026-03-20T20:29:00Z")).toContain("۱۴۰۴");
  });

  test("an English date is Gregorian UTC", () => {
    expect(formatDate("en", new Date("2026-12-02T12:30:00Z"))).toBe("2 Dec 2026, 12:30 UTC");
    expect(formatDate("en", Date.UTC(2026, 0, 1))).toBe("1 Jan 2026, 00:00 UTC");
  });

  test("numbers and sizes", () => {
    expect(formatNumber("fa", 1234567)).toBe("۱٬۲۳۴٬۵۶۷");
    expect(formatNumber("fa", 2.5)).toBe("۲٫۵");
    expect(formatNumber("en", 1234567)).toBe("1,234,567");
    expect(formatNumber("fa", 2, { minimumFractionDigits: 1 })).toBe("۲٫۰");
    expect(formatBytes("en", 10 * 1024 * 1024)).toBe("10 MB");
    expect(formatBytes("fa", 10 * 1024 * 1024)).toBe("۱۰ مگابایت");
    expect(formatBytes("en", 2048)).toBe("2 KB");
    expect(toPersianDigits("ID 0190a5c2, ٣")).toBe("ID ۰۱۹۰a۵c۲, ۳");
    expect(toPersianDigits("بدون رقم")).toBe("بدون رقم");
  });
});

describe("text", () => {
  test("search folding equates Arabic and Persian letters and digits", () => {
    const target = normalizeForSearch("کتاب ی 3");
    expect(target).toBe("کتاب ی 3");
    expect(normalizeForSearch("كتاب ي ٣")).toBe(target); // Arabic kaf, yeh, Arabic-Indic 3
    expect(normalizeForSearch("كتاب ى ۳")).toBe(target); // alef maksura, Persian 3
    expect(normalizeForSearch("پژو ۲۰۶ مدل ۱۳۹۸")).toBe("پژو 206 مدل 1398");
    expect(normalizeForSearch("KIA Sportage")).toBe("kia sportage");
  });

  test("search folding strips ZWNJ and tatweel, and composes (NFC)", () => {
    expect(normalizeForSearch(`می${ZWNJ}شود`)).toBe("میشود");
    expect(normalizeForSearch(`آگهی${ZWNJ}ها`)).toBe(normalizeForSearch("آگهیها"));
    expect(normalizeForSearch("خــودرو")).toBe("خودرو");
    // آ as alef + madda above (decomposed) is the same letter as the precomposed آ.
    expect(normalizeForSearch("\u0627\u0653ب")).toBe("\u0622ب");
    expect(nfc("e\u0301")).toBe("\u00e9");
    // Conservative: different letters stay different.
    expect(normalizeForSearch("ة")).toBe("ة");
    expect(normalizeForSearch("أ")).toBe("أ");
  });

  test("lengths count characters as people do, not bytes", () => {
    expect(charLength("خودرو")).toBe(5);
    expect(Buffer.byteLength("خودرو")).toBe(10);
    expect(charLength(`می${ZWNJ}شود`)).toBe(5); // ZWNJ extends the letter before it (Grapheme_Cluster_Break=Extend)
    expect(charLength("👨‍👩‍👧")).toBe(1);
    expect(charLength("e\u0301")).toBe(1);
    expect(charLength("")).toBe(0);
  });
});
