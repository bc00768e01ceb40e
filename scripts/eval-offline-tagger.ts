/**
 * Evaluates the offline tagger on the fixture photos (or on a directory given as the argument):
 * per photo the top 5 tags, the decision and the time; then precision and recall of "vehicle"
 * at the recommended threshold and at Imagga's 50. Ground truth: file names starting with
 * `vehicle-` show a vehicle, every other photo does not. Numbers are printed, never asserted.
 *
 *   bun scripts/eval-offline-tagger.ts [dir]
 */
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { decideFromTags } from "../src/domain/decision";
import { OFFLINE_MIN_CONFIDENCE, OfflineTagger } from "../src/tagger/offline";
import type { Tag } from "../src/tagger/tagger";

const dir = resolve(process.argv[2] ?? join(import.meta.dir, "../tests/fixtures/images"));
const files = readdirSync(dir)
  .filter((f) => /\.(jpe?g|png|gif|webp)$/i.test(f))
  .sort();
const contentType = (f: string) => {
  const ext = f.split(".").pop()!.toLowerCase();
  return ext === "jpg" || ext === "jpeg" ? "image/jpeg" : `image/${ext}`;
};

const coldStart = performance.now();
const tagger = await OfflineTagger.create();
const coldMs = performance.now() - coldStart;

interface Row {
  file: string;
  truth: boolean;
  tags: Tag[];
  ms: number;
}
const rows: Row[] = [];
for (const file of files) {
  const bytes = new Uint8Array(await Bun.file(join(dir, file)).arrayBuffer());
  const started = performance.now();
  const tags = await tagger.tag(bytes, contentType(file));
  rows.push({ file, truth: file.startsWith("vehicle-"), tags, ms: performance.now() - started });
}

const rule = (minConfidence: number) => ({ vehicleTag: "vehicle", minConfidence });
const fmtTags = (tags: Tag[]) =>
  tags
    .slice(0, 5)
    .map((t) => `${t.name} ${t.confidence.toFixed(1)}`)
    .join(", ") || "(none)";
const fmtDecision = (tags: Tag[], min: number) => {
  const d = decideFromTags(tags, rule(min));
  return d.state === "accepted" ? `accepted (${d.category})` : d.state;
};

console.log(`offline tagger: model loaded and warmed up in ${coldMs.toFixed(0)} ms (cold start)`);
console.log(`photos: ${dir}\n`);
const w = Math.max(...files.map((f) => f.length));
console.log(`${"photo".padEnd(w)}  ${"ms".padStart(5)}  ${`decision @${OFFLINE_MIN_CONFIDENCE}`.padEnd(22)}  ${"decision @50".padEnd(22)}  top 5 tags`);
for (const r of rows) {
  console.log(
    `${r.file.padEnd(w)}  ${r.ms.toFixed(0).padStart(5)}  ${fmtDecision(r.tags, OFFLINE_MIN_CONFIDENCE).padEnd(22)}  ${fmtDecision(r.tags, 50).padEnd(22)}  ${fmtTags(r.tags)}`,
  );
}

const times = rows.map((r) => r.ms).sort((a, b) => a - b);
const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
console.log(
  `\nwarm time per photo: mean ${mean.toFixed(0)} ms, median ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(0)} ms, max ${(times.at(-1) ?? 0).toFixed(0)} ms (${times.length} photos, one at a time)`,
);

for (const min of [OFFLINE_MIN_CONFIDENCE, 50]) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  const wrong: string[] = [];
  for (const r of rows) {
    const accepted = decideFromTags(r.tags, rule(min)).state === "accepted";
    if (accepted && r.truth) tp++;
    else if (accepted) (fp++, wrong.push(`${r.file} (false accept)`));
    else if (r.truth) (fn++, wrong.push(`${r.file} (false reject)`));
    else tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : NaN;
  const recall = tp + fn ? tp / (tp + fn) : NaN;
  console.log(
    `vehicle @ ${String(min).padStart(2)}${min === OFFLINE_MIN_CONFIDENCE ? " (recommended)" : " (Imagga default)"}: ` +
      `precision ${precision.toFixed(2)} (${tp}/${tp + fp}), recall ${recall.toFixed(2)} (${tp}/${tp + fn}), TP ${tp} FP ${fp} FN ${fn} TN ${tn}` +
      (wrong.length ? ` — ${wrong.join(", ")}` : ""),
  );
}
