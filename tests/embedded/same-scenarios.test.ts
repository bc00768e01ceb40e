/**
 * The API and pipeline scenarios again, on the embedded defaults (PGlite, files under DATA_DIR,
 * the in-process queue): the same test files, run with PIPELINE_MODE=embedded in a child process
 * (so their module-level setup picks the other backends).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

async function runEmbedded(file: string) {
  // The child gets the suite's per-test limit too (Bun's default is 5 s; the embedded database's
  // first start can take longer on a loaded 2-core machine).
  const proc = Bun.spawn([process.execPath, "test", "--timeout", "30000", join(import.meta.dir, "..", file)], {
    env: { ...process.env, PIPELINE_MODE: "embedded" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const text = out + err;
  if (code !== 0) console.log(text);
  return { code, text, passed: Number(/(\d+) pass\b/.exec(text)?.[1] ?? 0), failed: Number(/(\d+) fail\b/.exec(text)?.[1] ?? -1) };
}

test("the pipeline scenarios pass on the embedded backends", async () => {
  const r = await runEmbedded("consumer/pipeline.test.ts");
  expect(r.text).toContain("the pipeline (embedded backends)");
  expect([r.passed, r.failed, r.code]).toEqual([8, 0, 0]);
}, 180_000);

test("the API scenarios pass on the embedded backends", async () => {
  const r = await runEmbedded("routes/ads.test.ts");
  expect(r.passed).toBeGreaterThanOrEqual(20);
  expect([r.failed, r.code]).toEqual([0, 0]);
}, 180_000);
