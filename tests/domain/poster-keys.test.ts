import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPosterKeys, PosterKeys } from "../../src/domain/poster-keys";

const ID = "01a2373d-67f4-7475-b38c-41640e2bcab1";
const SECRET = "s".repeat(40);

describe("manage links", () => {
  const keys = new PosterKeys(SECRET);
  test("a token names its ad and nothing else", () => {
    const token = keys.manageToken(ID);
    expect(token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(keys.adIdOf(token)).toBe(ID);
    expect(keys.manageUrl("https://ads.example", ID)).toBe(`https://ads.example/manage/${token}`);
  });
  test("an altered, truncated, foreign or other-secret token is refused", () => {
    const token = keys.manageToken(ID);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    expect(keys.adIdOf(flip(token, 3))).toBeNull(); // another ad's id with this mac
    expect(keys.adIdOf(flip(token, 30))).toBeNull(); // this id with a wrong mac
    expect(keys.adIdOf(token.slice(0, 43))).toBeNull();
    expect(keys.adIdOf(token + "A")).toBeNull();
    expect(keys.adIdOf("../../etc/passwd")).toBeNull();
    expect(new PosterKeys("t".repeat(40)).adIdOf(token)).toBeNull(); // rotating the secret invalidates links
  });
  test("the secret must be long enough", () => {
    expect(() => new PosterKeys("short")).toThrow();
  });
});

describe("poster hash", () => {
  test("one-way, keyed, and the same for the same address whatever its case", () => {
    const keys = new PosterKeys(SECRET);
    const h = keys.posterHash("Poster@Example.com ");
    expect(h).toMatch(/^ph1:[0-9a-f]{64}$/);
    expect(keys.posterHash("poster@example.com")).toBe(h);
    expect(keys.posterHash("other@example.com")).not.toBe(h);
    expect(new PosterKeys("t".repeat(40)).posterHash("poster@example.com")).not.toBe(h);
    expect(h).not.toContain("poster");
  });
});

describe("the secret's home", () => {
  test("generated once into DATA_DIR (mode 0600) and reused; MANAGE_LINK_SECRET wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "keys-"));
    try {
      const a = loadPosterKeys({ secret: null, dataDir: dir });
      const file = join(dir, "manage-link.secret");
      expect(readFileSync(file, "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const b = loadPosterKeys({ secret: null, dataDir: dir });
      expect(b.adIdOf(a.manageToken(ID))).toBe(ID);
      const c = loadPosterKeys({ secret: SECRET, dataDir: dir });
      expect(c.adIdOf(a.manageToken(ID))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the manage page's form token", () => {
  test("bound to the link, checked in constant time, refused when missing or wrong", () => {
    const keys = new PosterKeys(SECRET);
    const link = keys.manageToken(ID);
    const form = keys.formToken(link);
    expect(keys.checkFormToken(link, form)).toBe(true);
    expect(keys.checkFormToken(keys.manageToken("01a2373d-67f4-7475-b38c-41640e2bcab2"), form)).toBe(false);
    expect(keys.checkFormToken(link, undefined)).toBe(false);
    expect(keys.checkFormToken(link, form.slice(1) + "x")).toBe(false);
    expect(new PosterKeys("t".repeat(40)).checkFormToken(link, form)).toBe(false);
  });
});
