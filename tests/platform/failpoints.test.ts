/** Fault-injection points: parsing, and actions restricted to one subject (`action@MARKER`). */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DependencyError } from "../../src/domain/errors";
import { FAILPOINT_NAMES, failpoints, parseFailpoints } from "../../src/platform/failpoints";

const outcome = (p: Promise<void>) =>
  p.then(
    () => "passed",
    (e: unknown) => (e instanceof DependencyError ? `threw ${e.reason}` : `threw ${String(e)}`),
  );

describe("parseFailpoints", () => {
  test("reads names, actions and optional markers", () => {
    expect(parseFailpoints(" worker.after-download=kill@POISON , intake.after-commit=delay:300,worker.before-tagging=throw")).toEqual({
      "worker.after-download": "kill@POISON",
      "intake.after-commit": "delay:300",
      "worker.before-tagging": "throw",
    });
    expect(parseFailpoints("")).toEqual({});
    expect(FAILPOINT_NAMES).toContain("worker.before-tagging");
  });

  test.each([
    ["worker.nope=kill", /unknown failpoint/],
    ["worker.after-download", /needs an action/],
    ["worker.after-download=explode", /needs an action/],
    ["worker.after-download=kill@", /needs an action/],
    ["worker.after-download=kill@A@B", /needs an action/],
    ["worker.after-download=kill@two words", /needs an action/],
    ["worker.after-download=kill=x", /needs an action/],
    ["worker.after-download=kill,worker.after-download=throw", /given twice/],
  ])("refuses %p", (spec, message) => {
    expect(() => parseFailpoints(spec)).toThrow(message);
  });
});

describe("failpoints", () => {
  test("without a marker an action fires for every subject, and for none", async () => {
    const fp = failpoints(parseFailpoints("worker.after-tagging=throw"));
    expect(await outcome(fp("worker.after-tagging"))).toBe("threw failpoint");
    expect(await outcome(fp("worker.after-tagging", "a red bus"))).toBe("threw failpoint");
    expect(await outcome(fp("worker.after-download", "a red bus"))).toBe("passed"); // another point
  });

  test("with a marker it fires only when the subject contains the marker (case-sensitive)", async () => {
    const fp = failpoints(parseFailpoints("worker.after-download=throw@POISON"));
    expect(await outcome(fp("worker.after-download", "Red bus, POISON pill inside"))).toBe("threw failpoint");
    expect(await outcome(fp("worker.after-download", "POISON"))).toBe("threw failpoint");
    expect(await outcome(fp("worker.after-download", "Red bus, runs well"))).toBe("passed");
    expect(await outcome(fp("worker.after-download", "poison, lower case"))).toBe("passed");
    expect(await outcome(fp("worker.after-download"))).toBe("passed"); // no subject: never matches
    expect(await outcome(fp("worker.before-tagging", "POISON"))).toBe("passed"); // another point
  });

  test("delay@marker delays only the marked subject", async () => {
    const fp = failpoints(parseFailpoints("worker.before-tagging=delay:150@SLOW"));
    let t = performance.now();
    await fp("worker.before-tagging", "fast one");
    expect(performance.now() - t).toBeLessThan(50);
    t = performance.now();
    await fp("worker.before-tagging", "the SLOW one");
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
  });

  test("kill@marker kills the process only for the marked subject", async () => {
    const script = (subject: string) => `
      import { failpoints, parseFailpoints } from ${JSON.stringify(join(import.meta.dir, "../../src/platform/failpoints.ts"))};
      const fp = failpoints(parseFailpoints("worker.after-download=kill@POISON"));
      await fp("worker.after-download", ${JSON.stringify(subject)});
      console.log("survived");
    `;
    const run = async (subject: string) => {
      const p = Bun.spawn([process.execPath, "-e", script(subject)], { stdout: "pipe", stderr: "pipe" });
      const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
      return { code, signal: p.signalCode, out: out.trim() };
    };
    expect(await run("an ordinary car")).toEqual({ code: 0, signal: null, out: "survived" });
    const killed = await run("this one is POISON");
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.out).toBe("");
  }, 30_000);

  test("no spec: a no-op", async () => {
    expect(await outcome(failpoints({})("worker.after-download", "POISON"))).toBe("passed");
  });
});
