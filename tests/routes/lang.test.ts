/**
 * The language of answers, without services: the input errors' messages per language (English
 * exactly as the domain says it, Persian from the catalogue), the other API errors, the `lang`
 * cookie a `?lang=` sets, and the language switch's links.
 */
import { describe, expect, test } from "bun:test";
import { DependencyError, InputError } from "../../src/domain/errors";
import { validateDescription, validateEmail, validateImage } from "../../src/domain/validation";
import { t } from "../../src/i18n";
import { silentLogger } from "../../src/platform/logger";
import { apiError, messageFor } from "../../src/routes/errors";
import { langChoiceCookie, pageHere, requestLang } from "../../src/routes/lang";
import { switchHref } from "../../src/views/public/shell";
import { photo } from "../support/fixtures";

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("did not throw");
}

const PERSIAN = /[\u0600-\u06FF]/;
const jpeg = photo("vehicle-car-rear.jpg");

describe("messageFor: an input error in the client's language", () => {
  const cases: Array<[string, () => unknown]> = [
    ["no description", () => validateDescription(undefined)],
    ["blank description", () => validateDescription("  ")],
    ["description too long", () => validateDescription("x".repeat(5001))],
    ["NUL in the description", () => validateDescription("a\u0000b")],
    ["no e-mail", () => validateEmail(undefined)],
    ["two e-mail addresses", () => validateEmail("a@b.co, c@d.co")],
    ["empty image", () => validateImage(new Uint8Array(0), 1000)],
    ["image too large", () => validateImage(jpeg, 1000)],
    ["not an image", () => validateImage(new TextEncoder().encode("%PDF-1.7"), 1_000_000)],
    ["truncated JPEG", () => validateImage(jpeg.subarray(0, jpeg.length - 200), 10_000_000)],
    ["too many pixels", () => validateImage(jpeg, 10_000_000, 100)],
  ];
  for (const [name, fn] of cases) {
    test(`${name}: English unchanged, Persian from the catalogue, the code the same`, () => {
      const err = thrown(fn);
      expect(err.detail).toBeDefined();
      expect(messageFor("en", err)).toBe(err.message);
      const fa = messageFor("fa", err);
      expect(fa).toMatch(PERSIAN);
      // Latin only for format names (and NUL, the character's name).
      expect((fa.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => !["JPEG", "PNG", "GIF", "WebP", "NUL"].includes(w))).toEqual([]);
      expect(apiError("", err, silentLogger, "fa")).toMatchObject({ code: err.code, message: fa });
    });
  }

  test("the numbers in Persian messages use Persian digits", () => {
    expect(messageFor("fa", thrown(() => validateDescription("x".repeat(5001))))).toBe(t("fa").errors.descriptionTooLong(5000));
    expect(t("fa").errors.descriptionTooLong(5000)).toContain("۵٬۰۰۰");
  });

  test("an input error without a detail keeps its text; a not_found gets the catalogue's", () => {
    expect(messageFor("fa", new InputError("invalid", "invalid_reason", "reason must be at most 500 characters"))).toBe("reason must be at most 500 characters");
    expect(messageFor("fa", new InputError("unknown", "not_found", "No ad with this id"))).toBe(t("fa").errors.adNotFound);
    expect(messageFor("en", new InputError("unknown", "not_found", "No ad with this id"))).toBe("No ad with this id");
  });
});

describe("apiError in each language", () => {
  test("English is what it always was; Persian is Persian; codes never change", () => {
    const dep = new DependencyError("database", "down", true);
    expect(apiError("", dep, silentLogger, "en")).toMatchObject({ status: 503, code: "database_unavailable", message: "The database is unavailable; try again shortly" });
    expect(apiError("", dep, silentLogger, "fa")).toMatchObject({ status: 503, code: "database_unavailable", message: t("fa").errors.unavailable(t("fa").errors.dependencies.database) });
    expect(apiError("NOT_FOUND", new Error("x"), silentLogger, "en")).toMatchObject({ code: "not_found", message: "Not found" });
    expect(apiError("PARSE", new Error("x"), silentLogger, "en").message).toBe("The request body could not be parsed; send multipart/form-data");
    const validation = Object.assign(new Error("x"), { valueError: { path: "/email" } });
    expect(apiError("VALIDATION", validation, silentLogger, "en")).toMatchObject({ code: "invalid_email", message: "email is missing or invalid" });
    expect(apiError("VALIDATION", validation, silentLogger, "fa")).toMatchObject({ code: "invalid_email", message: t("fa").errors.invalidField("ایمیل") });
  });
});

describe("the lang cookie and the switch", () => {
  const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://localhost${path}`, { headers });

  test("?lang= on a GET sets the cookie for a year, unless it already says so; nothing else sets it", () => {
    expect(langChoiceCookie(get("/?lang=fa"))).toBe("lang=fa; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
    expect(langChoiceCookie(get("/ads/x?lang=en-GB"))).toStartWith("lang=en;");
    expect(langChoiceCookie(get("/?lang=fa", { cookie: "lang=fa" }))).toBeNull();
    expect(langChoiceCookie(get("/?lang=en", { cookie: "a=1; lang=fa" }))).toStartWith("lang=en;");
    expect(langChoiceCookie(get("/?lang=de"))).toBeNull();
    expect(langChoiceCookie(get("/"))).toBeNull();
    expect(langChoiceCookie(new Request("http://localhost/ads?lang=fa", { method: "POST" }))).toBeNull();
  });

  test("the order: ?lang=, then the cookie, then Accept-Language, then the default", () => {
    expect(requestLang(get("/?lang=en", { cookie: "lang=fa", "accept-language": "fa" }), "fa")).toBe("en");
    expect(requestLang(get("/", { cookie: "lang=en", "accept-language": "fa-IR" }), "fa")).toBe("en");
    expect(requestLang(get("/", { "accept-language": "fa-IR,en;q=0.5" }), "en")).toBe("fa");
    expect(requestLang(get("/"), "fa")).toBe("fa");
  });

  test("the switch leads back to the same page (path and query, without the old lang), never off the site", () => {
    expect(pageHere(get("/ads/abc?lang=fa&x=1"))).toBe("/ads/abc?x=1");
    expect(pageHere(new Request("http://localhost/ads", { method: "POST" }))).toBe("/");
    expect(switchHref("/", "fa")).toBe("/?lang=fa");
    expect(switchHref("/ads/abc?x=1", "en")).toBe("/ads/abc?x=1&lang=en");
    expect(switchHref("//evil.example/x", "en")).toBe("/evil.example/x?lang=en");
    expect(switchHref("/\\evil.example", "en")).toBe("/evil.example?lang=en");
  });
});

describe("descriptions", () => {
  test("stored in NFC; the limit counts characters as people do", () => {
    expect(validateDescription(" \u0627\u0653\u0628 ")).toBe("\u0622\u0628");
    expect(validateDescription("خ".repeat(5000))).toHaveLength(5000);
    expect(thrown(() => validateDescription("خ".repeat(5001))).code).toBe("invalid_description");
    // A family emoji is one character of five code points: 3000 of them are fine; past the
    // database's own guard of 20000 code points (sql/007) they are refused here, with a 422.
    expect(validateDescription("👨‍👩‍👧".repeat(3000))).toHaveLength(3000 * 8);
    expect(thrown(() => validateDescription("👨‍👩‍👧".repeat(4001))).detail).toEqual({ key: "descriptionTooLong", max: 5000 });
  });
});
