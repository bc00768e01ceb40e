/**
 * Soak test: ~1k ads over a few minutes while randomised faults hit every dependency, then the
 * reliability invariant. Not part of the default suite (it takes minutes and stops the shared
 * RabbitMQ and PostgreSQL): `bun scripts/soak.ts [seconds=180] [rate=6]`.
 * Needs the services scripts/test.sh starts, and a built ./ad-service.
 */
import { invariant, rabbit, restartPostgres, settle, startFaultStack } from "../tests/faults/harness";
import type { Running } from "../tests/support/binary";

const seconds = Number(process.argv[2] ?? 180);
const rate = Number(process.argv[3] ?? 6);
const files = ["vehicle-bus.jpg", "vehicle-car-rear.jpg", "none-cat.png", "none-fruits.jpg", "vehicle-boats-harbour.jpg", "none-building.jpg"];

const stack = await startFaultStack({ RETRY_DELAYS: "1s,2s,4s,8s,16s,30s", SWEEP_AFTER: "10s", LOG_LEVEL: "info", WORKER_CONCURRENCY: "8" });
let api: Running = await stack.start();
let worker: Running = await stack.start(["worker"]);
const ids: string[] = [];
let refused = 0;
const faults: string[] = [];
const t0 = Date.now();
const log = (s: string) => console.log(`[soak ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);

async function load() {
  const end = t0 + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    const id = await stack.submit(api.url, files[n++ % files.length]);
    if (id) ids.push(id);
    else refused++;
    await Bun.sleep(1000 / rate);
  }
}

const chaos: Array<[string, () => Promise<void>]> = [
  ["SIGKILL the worker copy, restart it", async () => {
    await worker.stop("SIGKILL");
    await Bun.sleep(1000);
    worker = await stack.start(["worker"]);
  }],
  ["SIGKILL the api+worker copy, restart it", async () => {
    await api.stop("SIGKILL");
    api = await stack.start();
  }],
  ["SIGTERM the api+worker copy, restart it", async () => {
    await api.stop("SIGTERM");
    api = await stack.start();
  }],
  ["RabbitMQ stop_app for 5 s", async () => {
    await rabbit.stop();
    await Bun.sleep(5000);
    await rabbit.start();
  }],
  ["PostgreSQL down for 3 s", () => restartPostgres(3000)],
  ["Imagga 429 ×15", async () => stack.imagga.faults.failNext(15, 429, null)],
  ["Imagga 500 for 4 s", async () => {
    stack.imagga.faults.alwaysStatus = 500;
    await Bun.sleep(4000);
    stack.imagga.faults.alwaysStatus = null;
  }],
  ["Mailgun 503 ×10", async () => stack.mailgun.faults.failNext(10, 503, null)],
  ["Imagga slow (800 ms) for 5 s", async () => {
    stack.imagga.faults.delayMs = 800;
    await Bun.sleep(5000);
    stack.imagga.faults.delayMs = 0;
  }],
];

async function monkey() {
  const end = t0 + (seconds - 10) * 1000;
  while (Date.now() < end) {
    await Bun.sleep(8000 + Math.random() * 8000);
    const [name, act] = chaos[Math.floor(Math.random() * chaos.length)]!;
    log(`fault: ${name}`);
    faults.push(name);
    try {
      await act();
    } catch (err) {
      log(`fault action failed: ${(err as Error).message}`);
    }
  }
}

let exitCode = 1;
try {
  await Promise.all([load(), monkey()]);
  log(`load done: ${ids.length} ads got 201, ${refused} submissions refused (service restarting or dependency down)`);
  const r = await settle(stack, ids, 180_000);
  // Let late duplicates (crash-after-send windows) show up before counting.
  await Bun.sleep(3000);
  const final = await invariant(stack, ids);
  console.log("\nfaults injected:", faults.length, JSON.stringify(faults.reduce<Record<string, number>>((m, f) => ((m[f] = (m[f] ?? 0) + 1), m), {})));
  console.log("invariant:", JSON.stringify(final));
  const ok = final.pending === 0 && final.decisionsOverOne === 0 && final.missingEmails === 0 && final.failed === 0 && r.pending === 0;
  console.log(ok ? "SOAK PASSED" : "SOAK FAILED");
  exitCode = ok ? 0 : 1;
} finally {
  await rabbit.start().catch(() => {});
  await stack.stop();
}
process.exit(exitCode);
