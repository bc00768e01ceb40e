/**
 * Text handling that Persian needs: one normal form for stored text, a folded form for search,
 * and lengths counted as people count characters.
 *
 * Search folding is deliberately conservative: it only merges what Persian keyboards and
 * copy-pasted Arabic text produce for the *same* Persian word (Arabic yeh/alef maksura and kaf,
 * the three digit sets, ZWNJ, tatweel, case). Letters that are different letters in Persian
 * orthography (ة and ه, the hamza forms of alef) are left alone.
 */

/** Text in Unicode Normalization Form C: one spelling for what looks the same. */
export function nfc(s: string): string {
  return s.normalize("NFC");
}

const FOLD: Record<string, string> = {
  "\u064a": "\u06cc", // ي Arabic yeh → ی Persian yeh
  "\u0649": "\u06cc", // ى Arabic alef maksura → ی
  "\u0643": "\u06a9", // ك Arabic kaf → ک Persian keheh
  "\u200c": "", // ZWNJ: "می‌شود" and "میشود" are the same word to a searcher
  "\u0640": "", // ـ tatweel (kashida): decoration only
};
for (let i = 0; i < 10; i++) {
  FOLD[String.fromCharCode(0x06f0 + i)] = String(i); // ۰-۹ Persian digits
  FOLD[String.fromCharCode(0x0660 + i)] = String(i); // ٠-٩ Arabic-Indic digits
}
const FOLDABLE = /[\u064a\u0649\u0643\u200c\u0640\u06f0-\u06f9\u0660-\u0669]/g;

/**
 * The form a search compares: NFC, Arabic ي ى ك as Persian ی ک, Persian and Arabic-Indic
 * digits as ASCII, no ZWNJ or tatweel, lower case. Apply it to both the query and the text.
 */
export function normalizeForSearch(s: string): string {
  return nfc(s)
    .replace(FOLDABLE, (c) => FOLD[c] ?? c)
    .toLowerCase();
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The length of a text as people count it: grapheme clusters, so "خودرو" is 5 (10 bytes in
 * UTF-8) and an emoji with modifiers or a letter with combining marks is 1. Use it for length
 * limits shown to people; a limit in bytes or UTF-16 units would give Persian writers half.
 */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of GRAPHEMES.segment(s)) n++;
  return n;
}
