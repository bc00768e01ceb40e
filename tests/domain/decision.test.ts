import { describe, expect, test } from "bun:test";
import { decideFromTags, decisionEmail, decisionReason, repostOf, withReposts } from "../../src/domain/decision";

const rule = { vehicleTag: "vehicle", minConfidence: 50 };
const tags = (...pairs: Array<[string, number]>) => pairs.map(([name, confidence]) => ({ name, confidence }));

describe("decideFromTags", () => {
  const cases: Array<{ name: string; tags: ReturnType<typeof tags>; state: string; category: string | null }> = [
    { name: "vehicle at exactly 50 is accepted (inclusive boundary)", tags: tags(["vehicle", 50], ["car", 40]), state: "accepted", category: "vehicle" },
    { name: "vehicle at 49.99 is rejected", tags: tags(["vehicle", 49.99], ["car", 90]), state: "rejected", category: null },
    { name: "no vehicle tag is rejected", tags: tags(["cat", 100], ["pet", 80]), state: "rejected", category: null },
    { name: "no tags at all is rejected", tags: [], state: "rejected", category: null },
    { name: "the top tag becomes the category, not the vehicle tag", tags: tags(["vehicle", 61.2], ["car", 100], ["motor vehicle", 96.57]), state: "accepted", category: "car" },
    { name: "unsorted tags: the maximum is computed, not taken from the first", tags: tags(["vehicle", 70], ["wheel", 20], ["bus", 99.5]), state: "accepted", category: "bus" },
    { name: "vehicle is itself the top tag", tags: tags(["vehicle", 95], ["car", 80]), state: "accepted", category: "vehicle" },
    { name: "tag names compare case-insensitively", tags: tags(["Vehicle", 77], ["Truck", 88]), state: "accepted", category: "Truck" },
    { name: "a non-finite confidence is ignored", tags: tags(["vehicle", NaN], ["car", 90]), state: "rejected", category: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = decideFromTags(c.tags, rule);
      expect(d.state).toBe(c.state as never);
      expect(d.category).toBe(c.category);
    });
  }

  test("the configured tag and threshold are used", () => {
    const r = { vehicleTag: "car", minConfidence: 90 };
    expect(decideFromTags(tags(["car", 89.9], ["vehicle", 99]), r).state).toBe("rejected");
    expect(decideFromTags(tags(["car", 90], ["vehicle", 99]), r)).toEqual({ state: "accepted", category: "vehicle", vehicleConfidence: 90 });
  });

  test("reports the vehicle confidence it decided on", () => {
    expect(decideFromTags(tags(["vehicle", 12.5]), rule).vehicleConfidence).toBe(12.5);
    expect(decideFromTags(tags(["cat", 12.5]), rule).vehicleConfidence).toBeNull();
  });
});

describe("the human-review band (REVIEW_MIN_CONFIDENCE)", () => {
  const band = { vehicleTag: "vehicle", minConfidence: 50, reviewMinConfidence: 30 };
  test("under the acceptance threshold but in the band: held for review", () => {
    expect(decideFromTags(tags(["vehicle", 30]), band)).toEqual({ state: "review", category: null, vehicleConfidence: 30 });
    expect(decideFromTags(tags(["vehicle", 49.99]), band).state).toBe("review");
  });
  test("the band never changes an acceptance or a clear rejection", () => {
    expect(decideFromTags(tags(["vehicle", 50], ["car", 90]), band).state).toBe("accepted");
    expect(decideFromTags(tags(["vehicle", 29.99]), band).state).toBe("rejected");
    expect(decideFromTags(tags(["cat", 99]), band).state).toBe("rejected");
  });
  test("off by default: the brief's rule holds", () => {
    expect(decideFromTags(tags(["vehicle", 49.99]), rule).state).toBe("rejected");
  });
});

describe("what a decision says and sends", () => {
  const rule = { vehicleTag: "vehicle", minConfidence: 50, reviewMinConfidence: 30 };
  const ad = { id: "01a2373d-67f4-7475-b38c-41640e2bcab1", email: "p@example.com", description: "A red bus", lang: "en" as const };
  test("the reason names the tag, its confidence and the threshold it met or missed", () => {
    expect(decisionReason(decideFromTags([{ name: "bus", confidence: 90 }, { name: "vehicle", confidence: 72.25 }], rule), rule)).toBe("vehicle 72.3 >= 50");
    expect(decisionReason(decideFromTags([{ name: "cat", confidence: 90 }], rule), rule)).toBe("no vehicle tag");
    expect(decisionReason(decideFromTags([{ name: "vehicle", confidence: 40 }], rule), rule)).toBe("vehicle 40.0 in the review band [30, 50)");
    expect(decisionReason(decideFromTags([{ name: "vehicle", confidence: 10 }], rule), rule)).toBe("vehicle 10.0 < 50");
  });
  test("accepted and rejected ads get their e-mail; an ad held for review gets none yet", () => {
    const accepted = decisionEmail(decideFromTags([{ name: "bus", confidence: 90 }, { name: "vehicle", confidence: 80 }], rule), ad, { publicBaseUrl: "https://ads.example" });
    expect(accepted).toMatchObject({ kind: "accepted", to: ad.email, subject: "Your ad was accepted (bus)" });
    expect(accepted!.text).toContain(`https://ads.example/ads/${ad.id}`);
    expect(decisionEmail(decideFromTags([{ name: "cat", confidence: 90 }], rule), ad, { publicBaseUrl: "https://ads.example" })).toMatchObject({ kind: "rejected" });
    expect(decisionEmail(decideFromTags([{ name: "vehicle", confidence: 40 }], rule), ad, { publicBaseUrl: "https://ads.example" })).toBeNull();
  });
  test("a Persian poster's e-mail is Persian: translated category, Solar Hijri date, right to left, the text isolated", () => {
    const fa = { ...ad, description: "پژو 206 <b>تمیز</b>", lang: "fa" as const, created_at: new Date("2026-12-02T12:30:00Z") };
    const accepted = decisionEmail(decideFromTags([{ name: "car", confidence: 90 }, { name: "vehicle", confidence: 80 }], rule), fa, { publicBaseUrl: "https://ads.example" })!;
    expect(accepted.subject).toBe("آگهی شما تأیید شد (خودرو)");
    expect(accepted.text).toContain("«پژو 206 <b>تمیز</b>»");
    expect(accepted.text).toContain("۱۴۰۵"); // 2 December 2026 is 11 Azar 1405
    expect(accepted.text).toContain("آذر");
    expect(accepted.text).not.toContain("accepted");
    expect(accepted.html.startsWith('<div dir="rtl" lang="fa">')).toBe(true);
    expect(accepted.html).toContain("<bdi>پژو 206 &lt;b&gt;تمیز&lt;/b&gt;</bdi>");
    const rejected = decisionEmail(decideFromTags([{ name: "cat", confidence: 90 }], rule), fa, { publicBaseUrl: "https://ads.example" })!;
    expect(rejected.subject).toBe("آگهی شما تأیید نشد");
    expect(rejected.text).toContain("وسیله نقلیه");
    // The English e-mail is unchanged in substance, and left to right.
    const en = decisionEmail(decideFromTags([{ name: "cat", confidence: 90 }], rule), ad, { publicBaseUrl: "https://ads.example" })!;
    expect(en.text).toContain("We could not find a vehicle in the photo.");
    expect(en.html.startsWith('<div dir="ltr" lang="en">')).toBe(true);
  });
});

describe("re-posts next to the rule", () => {
  const rule = { vehicleTag: "vehicle", minConfidence: 50 };
  const accepted = decideFromTags([{ name: "car", confidence: 90 }, { name: "vehicle", confidence: 80 }], rule);
  const rejected = decideFromTags([{ name: "cat", confidence: 90 }], rule);
  const m = (id: string, samePoster: boolean, state: string, distance = 3) => ({ id, samePoster, state, distance });

  test("another poster's photo comes first, whatever the order; then the same poster's", () => {
    expect(repostOf([])).toBeNull();
    expect(repostOf([m("mine", true, "accepted", 1), m("theirs", false, "accepted", 5)])).toEqual({ kind: "copy", of: "theirs", distance: 5 });
    expect(repostOf([m("mine", true, "accepted")])).toMatchObject({ kind: "duplicate", of: "mine" });
    for (const state of ["withdrawn", "rejected", "failed"]) expect(repostOf([m("old", true, state)])).toMatchObject({ kind: "own_repost", of: "old" });
  });

  test("a copy goes to review with its reason; the poster's own re-post or second listing, and a rejection, keep the rule's outcome", () => {
    const copy = withReposts(accepted, { kind: "copy", of: "x", distance: 4 });
    expect(copy).toMatchObject({ state: "review", category: null });
    expect(decisionReason(copy, rule)).toBe("possible copy of x (photo distance 4)");
    const dup = withReposts(accepted, { kind: "duplicate", of: "y", distance: 0 });
    expect(dup.state).toBe("accepted");
    expect(decisionReason(dup, rule)).toBe("vehicle 80.0 >= 50; same photo as the poster's ad y");
    const own = withReposts(accepted, { kind: "own_repost", of: "z", distance: 2 });
    expect(own.state).toBe("accepted");
    expect(decisionReason(own, rule)).toBe("vehicle 80.0 >= 50; re-post of the poster's own ad z");
    const copiedCat = withReposts(rejected, { kind: "copy", of: "w", distance: 1 });
    expect(copiedCat.state).toBe("rejected");
    expect(decisionReason(copiedCat, rule)).toBe("no vehicle tag; photo also in w");
    expect(withReposts(accepted, null)).toBe(accepted);
  });

  test("a review decision (copy) sends no e-mail yet; the e-mails carry the private manage link when there is one", () => {
    const ad = { id: "01a2373d-67f4-7475-b38c-41640e2bcab1", email: "p@example.com", description: "A bus", lang: "en" as const };
    const links = { publicBaseUrl: "https://ads.example", manageUrl: (id: string) => `https://ads.example/manage/T-${id}` };
    expect(decisionEmail(withReposts(accepted, { kind: "copy", of: "x", distance: 4 }), ad, links)).toBeNull();
    expect(decisionEmail(accepted, ad, links)!.text).toContain(`Sold it? Take the ad down here`);
    expect(decisionEmail(accepted, ad, links)!.html).toContain(`https://ads.example/manage/T-${ad.id}`);
    expect(decisionEmail(rejected, ad, links)!.text).toContain(`https://ads.example/manage/T-${ad.id}`);
    expect(decisionEmail(rejected, ad, { publicBaseUrl: "https://ads.example" })!.text).not.toContain("/manage/");
  });
});
