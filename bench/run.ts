/**
 * The benchmark suite: `bun run bench`. Every figure of ours is printed next to the limit of the
 * component that bounds it, measured by this script in the same run, as a ratio (the machine is
 * shared and noisy: absolute numbers drift, ratios within one run much less). See bench/README.md.
 */
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import amqp from "amqplib";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startImaggaDouble } from "../tests/doubles/imagga";
import { startMailgunDouble } from "../tests/doubles/mailgun";
import { BINARY, ensureBinary, ROOT, startBinary, type Running } from "../tests/support/binary";
import { photo } from "../tests/support/fixtures";
import { AMQP_URL, createTestDatabase, deleteQueues, S3, testEnv } from "../tests/support/stack";
import {
  BENCH_DIR, closedLoop, ensureTool, f0, f1, f2, freePort, mdTable, median, multipartBody, openLoop, pct, pgbench, PGBENCH, pool, rssMiB,
  rssSampler, run, slope, TMP, wrk, wrkGetScript, wrkPostScript, type WrkResult,
} from "./lib";

// ---------- knobs ----------
const num = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const DURATION = num("BENCH_DURATION", 10); // seconds per max-throughput run
const CONN = num("BENCH_CONNECTIONS", 16); // concurrency of wrk, the S3 loop and pgbench
const FIXED_RATE = num("BENCH_FIXED_RATE", 30);
const FIXED_SECONDS = num("BENCH_FIXED_SECONDS", 10);
const WORKER_SECONDS = num("BENCH_WORKER_SECONDS", 4); // batch size = limit rate x this
const WORKER_RUNS = (process.env.BENCH_WORKER_RUNS ?? "1:64,8:64,32:64,32:3").split(",").map((s) => s.split(":").map(Number) as [number, number]);
const IMAGGA_DELAY = num("BENCH_IMAGGA_DELAY_MS", 200);
const E2E_RATE = num("BENCH_E2E_RATE", 10);
const E2E_SECONDS = num("BENCH_E2E_SECONDS", 20);
const E2E_IMAGGA_MAX = process.env.BENCH_E2E_IMAGGA_MAX_CONCURRENCY ?? "3"; // the service's default
const SOAK = num("BENCH_SOAK_SECONDS", 60);
const SOAK_POST_RATE = num("BENCH_SOAK_POST_RATE", 5);
const SOAK_GET_RATE = num("BENCH_SOAK_GET_RATE", 50);
const COLD_REPS = num("BENCH_COLD_REPS", 5);
const EMB_WORKER_ADS = num("BENCH_EMBEDDED_WORKER_ADS", 30);
const ONLY = new Set((process.env.BENCH_ONLY ?? "post,worker,e2e,get,soak,cold,embedded").split(","));
const IMAGE_FILE = process.env.BENCH_IMAGE ?? "vehicle-bus.jpg";
const WARMUP = 2;

const t0All = Date.now();
const log = (s: string) => console.error(`[bench ${((Date.now() - t0All) / 1000).toFixed(0).padStart(4)}s] ${s}`);

// ---------- cleanup ----------
const cleanups: Array<() => Promise<unknown> | unknown> = [];
const procs = new Set<Running>();
async function cleanupAll() {
  for (const p of procs) await p.stop("SIGKILL").catch(() => {});
  procs.clear();
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      log(`cleanup: ${(e as Error).message}`);
    }
  }
}
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}
async function start(args: string[], env: Record<string, string>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Running> {
  const r = await startBinary(args, env, opts);
  procs.add(r);
  const stop = r.stop;
  r.stop = async (sig) => {
    procs.delete(r);
    return stop(sig);
  };
  return r;
}

// ---------- results ----------
interface Row { fig: string; what: string; ours: string; limit: string; ratio: number | null; target: string; ok: boolean | null }
const rows: Row[] = [];
const details: string[] = [];
const notes: string[] = [];
function addRow(r: Row) {
  rows.push(r);
  log(`${r.fig} ${r.what}: ours ${r.ours} | limit ${r.limit} | ratio ${r.ratio === null ? "-" : f2(r.ratio)} ${r.ok === null ? "" : r.ok ? "OK" : "MISS"}`);
}
const fmtLat = (p50: number, p99: number) => `p50 ${f1(p50)} / p99 ${f1(p99)} ms`;

// ---------- shared inputs ----------
const image = photo(IMAGE_FILE);
const { body: postBody, contentType: postType } = await multipartBody(image, IMAGE_FILE);
const postBodyFile = join(TMP, "post-body.bin");
writeFileSync(postBodyFile, postBody);
const postLua = wrkPostScript("post.lua", postBodyFile, postType);

async function postOne(url: string): Promise<string> {
  const res = await fetch(`${url}/ads`, { method: "POST", body: postBody as Uint8Array<ArrayBuffer>, headers: { "content-type": postType } });
  if (res.status !== 201) throw new Error(`POST /ads ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

function suffix() {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Service settings given to the bench's own environment reach the service under test. */
function passThrough(): Record<string, string> {
  return Object.fromEntries(["DATABASE_POOL_SIZE", "REPOST_MAX_DISTANCE"].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
}

/** A fresh database, queue and bucket on the real services; registered for cleanup. */
async function realStack(extra: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const id = suffix();
  const queue = `bench.ads.${id}`;
  const bucket = `bench-ads-${id}`;
  const env = testEnv({ databaseUrl: db.url, queue, bucket, imaggaUrl: imagga.url, mailgunUrl: mailgun.url }, { PORT: "0", ...passThrough(), ...extra });
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const done = async () => {
    await sql.end({ timeout: 1 }).catch(() => {});
    await deleteQueues(queue).catch(() => {});
    await emptyBucket(bucket).catch(() => {});
    await db.drop();
  };
  cleanups.push(done);
  return { db, env, queue, bucket, sql, done: async () => { cleanups.splice(cleanups.indexOf(done), 1); await done(); } };
}

const s3 = new S3Client({
  endpoint: S3.endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: S3.accessKeyId, secretAccessKey: S3.secretAccessKey },
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
  maxAttempts: 2,
});

/** Deletes every object and the bucket (time-boxed: a leftover bench bucket is harmless). */
async function emptyBucket(bucket: string) {
  const end = Date.now() + 30_000;
  for (;;) {
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 })).catch(() => null);
    if (!list?.Contents?.length) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: list.Contents.map((o) => ({ Key: o.Key! })), Quiet: true } }));
    if (Date.now() > end) return;
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
}

// ---------- machine facts ----------
async function facts(): Promise<string[]> {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  const nproc = (await run(["nproc"])).out.trim() || String(cpus().length);
  const kernel = (await run(["uname", "-r"])).out.trim();
  const mem = /MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
  const admin = postgres("postgres://postgres@127.0.0.1:5432/postgres", { max: 1, onnotice: () => {} });
  const pgv = (await admin`show server_version`)[0]!.server_version as string;
  await admin.end();
  let rmq = "?";
  try {
    const c = await amqp.connect(AMQP_URL);
    rmq = String((c as unknown as { connection: { serverProperties: { version: string } } }).connection.serverProperties.version);
    await c.close();
  } catch {}
  let ceph = "?";
  try {
    ceph = readdirSync(join(process.env.CEPH_HOME ?? "/var/tmp/ad-service-ceph", "debs")).find((f) => f.startsWith("radosgw_"))?.split("_")[1] ?? "?";
  } catch {}
  const wrkV = /wrk (\S+)/.exec((await run(["wrk", "-v"])).out)?.[1] ?? "?";
  const pgbV = (await run([PGBENCH, "--version"])).out.trim();
  const bin = (await run([BINARY, "--version"])).out.trim();
  return [
    `- CPU: ${nproc} × ${model}; RAM ${mem ? Math.round(Number(mem) / 1024 / 1024) : "?"} GiB; kernel ${kernel}`,
    `- load average at start: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    `- Bun ${Bun.version} (bench process); binary: ${bin} (${BINARY})`,
    `- PostgreSQL ${pgv}; ${pgbV}; RabbitMQ ${rmq}; Ceph RGW ${ceph}; wrk ${wrkV}`,
    `- knobs: BENCH_DURATION=${DURATION}s BENCH_CONNECTIONS=${CONN} BENCH_FIXED_RATE=${FIXED_RATE}/s×${FIXED_SECONDS}s BENCH_WORKER_SECONDS=${WORKER_SECONDS} BENCH_WORKER_RUNS=${WORKER_RUNS.map((r) => r.join(":")).join(",")} BENCH_E2E_RATE=${E2E_RATE}/s×${E2E_SECONDS}s BENCH_SOAK_SECONDS=${SOAK} BENCH_COLD_REPS=${COLD_REPS}`,
    `- image: tests/fixtures/images/${IMAGE_FILE} (${image.byteLength} bytes; multipart body ${postBody.byteLength} bytes)`,
  ];
}

// ---------- setup ----------
log("checking tools");
await ensureTool("wrk", "wrk");
await ensureTool(PGBENCH, "postgresql-contrib");
await ensureBinary();
{
  const r = await run(["bash", join(ROOT, "tests/infra/ceph-rgw.sh"), "start"]);
  if (r.code !== 0) throw new Error(`ceph-rgw start failed: ${r.out}${r.err}`);
}
const machine = await facts();
const imagga = startImaggaDouble();
const mailgun = startMailgunDouble();
cleanups.push(() => {
  imagga.stop();
  mailgun.stop();
});

const mem: Record<string, string> = {};

try {
  // ======================= 1. POST /ads (real services, `api` role) =======================
  if (ONLY.has("post")) {
    log("figure 1: POST /ads");
    const st = await realStack();
    const api = await start(["api"], st.env);
    const rss = rssSampler(api.proc.pid);
    await wrk(`${api.url}/ads`, { connections: CONN, seconds: WARMUP, script: postLua });
    const ours = await wrk(`${api.url}/ads`, { connections: CONN, seconds: DURATION, script: postLua });
    const fixed = await openLoop(FIXED_RATE, FIXED_SECONDS, () => postOne(api.url));
    mem["real api role, peak under POST load"] = `${f0(rss.stop())} MiB`;
    await api.stop();
    // Limit A: the S3 server's PUT rate, same body, same client library, same concurrency.
    await closedLoop(CONN, 1, (i) => s3.send(new PutObjectCommand({ Bucket: st.bucket, Key: `bench-limit/w${i}`, Body: image, ContentLength: image.byteLength, ContentType: "image/jpeg" })).then(() => {}));
    const put = await closedLoop(CONN, DURATION, (i) =>
      s3.send(new PutObjectCommand({ Bucket: st.bucket, Key: `bench-limit/${i}.jpg`, Body: image, ContentLength: image.byteLength, ContentType: "image/jpeg" })).then(() => {}),
    );
    // Limit B: PostgreSQL's single-row insert rate into a copy of the ads table (same indexes and checks).
    await st.sql.unsafe("create table bench_insert (like ads including all)");
    const ins = await pgbench(st.db.url,
      `insert into bench_insert (id, description, email, image_key, image_content_type, image_bytes) values (gen_random_uuid(), 'Benchmark ad: red double-decker bus, runs well', 'bench@example.com', 'ads/' || gen_random_uuid()::text || '.jpg', 'image/jpeg', ${image.byteLength});\n`,
      { clients: CONN, seconds: DURATION });
    // The same two components at the fixed offered load: their latency is the floor of ours.
    const putFixed = await openLoop(FIXED_RATE, FIXED_SECONDS, (i) =>
      s3.send(new PutObjectCommand({ Bucket: st.bucket, Key: `bench-limit/fixed-${i}.jpg`, Body: image, ContentLength: image.byteLength, ContentType: "image/jpeg" })));
    const insFixed = await pgbench(st.db.url,
      `insert into bench_insert (id, description, email, image_key, image_content_type, image_bytes) values (gen_random_uuid(), 'Benchmark ad', 'bench@example.com', 'ads/' || gen_random_uuid()::text || '.jpg', 'image/jpeg', ${image.byteLength});\n`,
      { clients: 1, seconds: FIXED_SECONDS, rate: FIXED_RATE });
    const limit = Math.min(put.rps, ins.tps);
    const which = put.rps <= ins.tps ? "S3 PUT" : "pg insert";
    addRow({ fig: "1", what: `POST /ads max throughput (c=${CONN})`, ours: `${f1(ours.rps)}/s (${fmtLat(ours.p50, ours.p99)})`, limit: `${f1(limit)}/s (${which})`, ratio: ours.rps / limit, target: "≥ 0.6", ok: ours.rps / limit >= 0.6 });
    const floor = pct(putFixed.latencies, 50) + insFixed.latencyAvgMs;
    addRow({ fig: "1", what: `POST /ads latency at a fixed ${FIXED_RATE}/s`, ours: fmtLat(pct(fixed.latencies, 50), pct(fixed.latencies, 99)), limit: `p50 ${f1(floor)} ms (S3 PUT p50 ${f1(pct(putFixed.latencies, 50))} + pg insert ${f2(insFixed.latencyAvgMs)}, both at ${FIXED_RATE}/s)`, ratio: floor / pct(fixed.latencies, 50), target: "-", ok: null });
    details.push(
      `**1. POST /ads** (${IMAGE_FILE}, c=${CONN}, ${DURATION} s): ours ${f1(ours.rps)}/s, ${ours.requests} requests, non-2xx ${ours.non2xx}${ours.socketErrors ? `, socket errors ${ours.socketErrors}` : ""}, ${fmtLat(ours.p50, ours.p99)}. ` +
        `S3 PUT (@aws-sdk/client-s3, ${CONN} loops): ${f1(put.rps)}/s, ${fmtLat(put.p50, put.p99)}, errors ${put.errors}. ` +
        `pgbench insert (c=${CONN}): ${f1(ins.tps)} tps, avg ${f2(ins.latencyAvgMs)} ms. ` +
        `Fixed ${FIXED_RATE}/s for ${FIXED_SECONDS} s: offered ${f1(fixed.achievedRate)}/s, ${fixed.results.length} ok, ${fixed.errors} errors, ${fmtLat(pct(fixed.latencies, 50), pct(fixed.latencies, 99))}; ` +
        `S3 PUT alone at ${FIXED_RATE}/s ${fmtLat(pct(putFixed.latencies, 50), pct(putFixed.latencies, 99))}; pgbench insert at ${FIXED_RATE}/s avg ${f2(insFixed.latencyAvgMs)} ms.`,
    );
    await st.done();
  }

  // ======================= 3. Worker throughput (real services) =======================
  if (ONLY.has("worker")) {
    for (const [conc, cap] of WORKER_RUNS) {
      const eff = Math.min(conc, cap);
      const n = Math.max(20, Math.ceil((eff / (IMAGGA_DELAY / 1000)) * WORKER_SECONDS));
      log(`figure 3: worker WORKER_CONCURRENCY=${conc} IMAGGA_MAX_CONCURRENCY=${cap}: loading ${n} ads`);
      // A fresh Imagga double per run, so its max-in-flight count is this run's.
      const tagger = startImaggaDouble();
      cleanups.push(() => tagger.stop());
      const st = await realStack({ WORKER_CONCURRENCY: String(conc), IMAGGA_MAX_CONCURRENCY: String(cap), IMAGGA_API_URL: tagger.url });
      const api = await start(["api"], st.env);
      await pool(Array.from({ length: n }), 8, () => postOne(api.url));
      await api.stop();
      tagger.faults.delayMs = IMAGGA_DELAY;
      const spawnedAt = Date.now();
      const worker = await start(["worker"], st.env);
      const rss = rssSampler(worker.proc.pid);
      const deadline = Date.now() + (n / (eff / (IMAGGA_DELAY / 1000))) * 5_000 + 60_000;
      let s = { decided: 0, failed: 0 };
      while (Date.now() < deadline) {
        [s = s] = await st.sql<{ decided: number; failed: number }[]>`select count(*) filter (where state in ('accepted','rejected'))::int as decided, count(*) filter (where state = 'failed')::int as failed from ads`;
        if (s!.decided + s!.failed >= n) break;
        await Bun.sleep(100);
      }
      const doneAt = Date.now();
      const [t] = await st.sql<{ span: number }[]>`select extract(epoch from max(decided_at) - min(decided_at))::float8 as span from ads where decided_at is not null`;
      const peak = rss.stop();
      await worker.stop();
      const rate = s!.decided / (t!.span + IMAGGA_DELAY / 1000);
      const lim = eff / (IMAGGA_DELAY / 1000);
      addRow({ fig: "3", what: `worker, WORKER_CONCURRENCY=${conc}, IMAGGA_MAX_CONCURRENCY=${cap}`, ours: `${f1(rate)} ads/s`, limit: `${f1(lim)}/s (${eff}/${IMAGGA_DELAY / 1000} s)`, ratio: rate / lim, target: "≥ 0.9", ok: rate / lim >= 0.9 });
      details.push(
        `**3. worker c=${conc} cap=${cap}**: ${n} ads pre-loaded; decided ${s!.decided}, failed ${s!.failed}; decisions spanned ${f2(t!.span)} s → ${f1(rate)}/s; ` +
          `wall clock from spawning the worker copy to the last decision ${f2((doneAt - spawnedAt) / 1000)} s (→ ${f1(n / ((doneAt - spawnedAt) / 1000))}/s incl. start-up and polling); worker RSS peak ${f0(peak)} MiB; Imagga double max in flight ${tagger.maxInFlight()}.`,
      );
      tagger.stop();
      await st.done();
    }
  }

  // ======================= 4, 2, 5: one full (api+worker) copy on real services =======================
  if (ONLY.has("e2e") || ONLY.has("get") || ONLY.has("soak") || ONLY.has("cold")) {
    const st = await realStack({ IMAGGA_MAX_CONCURRENCY: E2E_IMAGGA_MAX });
    imagga.faults.delayMs = IMAGGA_DELAY;
    const full = await start([], st.env);
    await Bun.sleep(2000);
    mem["real (api+worker), idle after start"] = `${f0(rssMiB(full.proc.pid))} MiB`;
    const rss = rssSampler(full.proc.pid);
    let ids: string[] = [];

    if (ONLY.has("e2e")) {
      log(`figure 4: end to end at ${E2E_RATE}/s for ${E2E_SECONDS} s`);
      const r = await openLoop(E2E_RATE, E2E_SECONDS, async () => ({ id: await postOne(full.url), at: Date.now() }));
      ids = r.results.map((x) => x.id);
      const end = Date.now() + 120_000;
      while (Date.now() < end && r.results.some((x) => mailgun.forAd(x.id).length === 0)) await Bun.sleep(100);
      const lat = r.results.flatMap((x) => {
        const m = mailgun.forAd(x.id)[0];
        return m ? [m.at - x.at] : [];
      });
      const postP50 = pct(r.latencies, 50);
      const limit = IMAGGA_DELAY + postP50;
      const p50 = pct(lat, 50);
      addRow({ fig: "4", what: `201 → e-mail at the Mailgun double, ${E2E_RATE}/s`, ours: fmtLat(p50, pct(lat, 99)), limit: `${f1(limit)} ms (${IMAGGA_DELAY} + POST p50 ${f1(postP50)})`, ratio: limit / p50, target: `p50 ≤ limit + 50 ms`, ok: p50 <= limit + 50 });
      details.push(
        `**4. end to end** (full copy, WORKER_CONCURRENCY=8, IMAGGA_MAX_CONCURRENCY=${E2E_IMAGGA_MAX}, Imagga double ${IMAGGA_DELAY} ms): ${r.results.length} ads got 201 (${r.errors} errors), ${lat.length} e-mails arrived; ` +
          `201 → e-mail ${fmtLat(p50, pct(lat, 99))}, max ${f1(Math.max(...lat))} ms; POST latency at ${E2E_RATE}/s ${fmtLat(postP50, pct(r.latencies, 99))}.`,
      );
    }
    if (!ids.length) ids = await pool(Array.from({ length: 50 }), 4, () => postOne(full.url));

    if (ONLY.has("get")) {
      log("figure 2: GET /ads/:id");
      // Let the backlog drain so the worker does not compete.
      const end = Date.now() + 60_000;
      while (Date.now() < end) {
        const [c] = await st.sql<{ n: number }[]>`select count(*)::int as n from ads where state = 'pending'`;
        if (c!.n === 0) break;
        await Bun.sleep(200);
      }
      const getLua = wrkGetScript("get.lua", "/ads/", ids);
      await wrk(full.url, { connections: CONN, seconds: WARMUP, script: getLua });
      const ours = await wrk(full.url, { connections: CONN, seconds: DURATION, script: getLua });
      // Limit A: a plain Bun.serve hello world, same generator, same script, same concurrency.
      const hello = Bun.spawn([process.execPath, join(BENCH_DIR, "hello.ts")], { stdout: "pipe", stderr: "inherit" });
      cleanups.push(() => hello.kill("SIGKILL"));
      const reader = (hello.stdout as ReadableStream<Uint8Array>).getReader();
      let buf = "";
      while (!/port (\d+)/.test(buf)) {
        const { value, done } = await reader.read();
        if (done) throw new Error("hello server did not start");
        buf += new TextDecoder().decode(value);
      }
      const helloUrl = `http://127.0.0.1:${/port (\d+)/.exec(buf)![1]}`;
      await wrk(helloUrl, { connections: CONN, seconds: WARMUP, script: getLua });
      const hw = await wrk(helloUrl, { connections: CONN, seconds: DURATION, script: getLua });
      hello.kill();
      await hello.exited;
      // Limit B: pgbench point select on a copy of the ads rows keyed by an integer.
      await st.sql.unsafe("create table bench_select as select row_number() over ()::int as n, * from ads");
      await st.sql.unsafe("alter table bench_select add primary key (n)");
      const rowsN = (await st.sql<{ n: number }[]>`select count(*)::int as n from bench_select`)[0]!.n;
      const sel = await pgbench(st.db.url, `\\set n random(1, ${rowsN})\nselect * from bench_select where n = :n;\n`, { clients: CONN, seconds: DURATION });
      const limit = Math.min(hw.rps, sel.tps);
      addRow({ fig: "2", what: `GET /ads/:id max throughput (c=${CONN})`, ours: `${f1(ours.rps)}/s (${fmtLat(ours.p50, ours.p99)})`, limit: `${f1(limit)}/s (${hw.rps <= sel.tps ? "Bun.serve hello" : "pg point select"})`, ratio: ours.rps / limit, target: "≥ 0.5", ok: ours.rps / limit >= 0.5 });
      details.push(
        `**2. GET /ads/:id** (${ids.length} decided ads, random id per request, c=${CONN}, ${DURATION} s): ours ${f1(ours.rps)}/s, non-2xx ${ours.non2xx}, ${fmtLat(ours.p50, ours.p99)}. ` +
          `Bun.serve hello world: ${f1(hw.rps)}/s, ${fmtLat(hw.p50, hw.p99)}. pgbench point select (c=${CONN}, ${rowsN} rows): ${f1(sel.tps)} tps, avg ${f2(sel.latencyAvgMs)} ms.`,
      );
    }

    if (ONLY.has("soak")) {
      log(`figure 5: memory flatness for ${SOAK} s (POST ${SOAK_POST_RATE}/s + GET ${SOAK_GET_RATE}/s)`);
      const samples: Array<{ t: number; mib: number }> = [];
      const t0 = performance.now();
      const sample = () => samples.push({ t: (performance.now() - t0) / 1000, mib: rssMiB(full.proc.pid) });
      sample();
      const timer = setInterval(sample, 5000);
      let k = 0;
      const [p, g] = await Promise.all([
        openLoop(SOAK_POST_RATE, SOAK, () => postOne(full.url)),
        openLoop(SOAK_GET_RATE, SOAK, async () => {
          const res = await fetch(`${full.url}/ads/${ids[k++ % ids.length]}`);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(String(res.status));
        }),
      ]);
      clearInterval(timer);
      sample();
      const ys = samples.map((s) => s.mib);
      const sl = slope(samples.map((s) => s.t / 60), ys);
      const secondHalf = samples.filter((s) => s.t >= SOAK / 2);
      const sl2 = slope(secondHalf.map((s) => s.t / 60), secondHalf.map((s) => s.mib));
      addRow({ fig: "5", what: `RSS flatness, ${SOAK} s under load`, ours: `first ${f0(ys[0]!)} / last ${f0(ys.at(-1)!)} / max ${f0(Math.max(...ys))} MiB; slope ${f1(sl)} MiB/min (2nd half ${f1(sl2)})`, limit: "flat", ratio: null, target: "no steady growth", ok: null });
      details.push(
        `**5. memory flatness**: full copy, POST ${SOAK_POST_RATE}/s (${p.results.length} ok, ${p.errors} errors) + GET ${SOAK_GET_RATE}/s (${g.results.length} ok, ${g.errors} errors) for ${SOAK} s; RSS every 5 s (MiB): ${ys.map(f0).join(", ")}.`,
      );
    }
    mem["real (api+worker), peak over e2e/GET/soak"] = `${f0(rss.stop())} MiB`;
    await full.stop();
    imagga.faults.delayMs = 0;

    if (ONLY.has("cold")) {
      log("figure 5: cold start (real services)");
      const times: number[] = [];
      for (let i = 0; i < COLD_REPS; i++) times.push(await coldStart({ ...st.env, PORT: String(freePort()) }, ROOT));
      addRow({ fig: "5", what: `cold start → first 200 on /ready, real services (median of ${COLD_REPS})`, ours: `${f0(median(times))} ms`, limit: "-", ratio: null, target: "-", ok: null });
      details.push(`**5. cold start, real services** (spawn → first 200 from /ready: database, broker, storage, consumer attached; migrations already applied): ${times.map(f0).join(", ")} ms.`);
    }
    await st.done();
  }

  // ======================= 6 (+5): embedded mode =======================
  if (ONLY.has("embedded")) {
    log("figure 5: cold start (embedded, empty env in an empty directory, PORT=0)");
    const times: number[] = [];
    for (let i = 0; i < COLD_REPS; i++) {
      const dir = mkdtempSync(join(tmpdir(), "ad-service-bench-cold-"));
      try {
        times.push(await coldStart({ PORT: "0" }, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    addRow({ fig: "5", what: `cold start → first 200 on /ready, embedded, first start (median of ${COLD_REPS})`, ours: `${f0(median(times))} ms`, limit: "-", ratio: null, target: "-", ok: null });
    details.push(`**5. cold start, embedded** (empty env + PORT=0, empty directory each time: PGlite snapshot restore, model load): ${times.map(f0).join(", ")} ms.`);

    log("figure 6: embedded mode throughput");
    const dir = mkdtempSync(join(tmpdir(), "ad-service-bench-emb-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const emb = await start([], { PORT: "0", RATE_LIMIT_PER_MINUTE: "0", LOG_LEVEL: "warn" }, { cwd: dir, timeoutMs: 60_000 });
    await Bun.sleep(2000);
    mem["embedded, idle after start"] = `${f0(rssMiB(emb.proc.pid))} MiB`;
    const rss = rssSampler(emb.proc.pid);
    // Worker: N ads posted at once, offline tagger; rate = N / (last decision - first submission).
    const firstAt = Date.now();
    const ids = await pool(Array.from({ length: EMB_WORKER_ADS }), 4, () => postOne(emb.url));
    const end = Date.now() + 180_000;
    const decided = new Map<string, { state: string; decidedAt: number }>();
    while (decided.size < ids.length && Date.now() < end) {
      for (const id of ids) {
        if (decided.has(id)) continue;
        const j = (await (await fetch(`${emb.url}/ads/${id}`)).json()) as { state: string; decided_at?: string };
        if (j.state !== "pending") decided.set(id, { state: j.state, decidedAt: j.decided_at ? Date.parse(j.decided_at) : Date.now() });
      }
      if (decided.size < ids.length) await Bun.sleep(250);
    }
    const lastAt = Math.max(...[...decided.values()].map((d) => d.decidedAt));
    const embRate = decided.size / ((lastAt - firstAt) / 1000);
    const accepted = [...decided.values()].filter((d) => d.state === "accepted").length;
    addRow({ fig: "6", what: "embedded worker (offline tagger, WORKER_CONCURRENCY=8)", ours: `${f1(embRate)} ads/s`, limit: "-", ratio: null, target: "report", ok: null });
    details.push(`**6. embedded worker**: ${ids.length} ${IMAGE_FILE} ads posted (4 at a time), ${decided.size} decided (${accepted} accepted) in ${f2((lastAt - firstAt) / 1000)} s from the first submission to the last decision.`);
    const getLua = wrkGetScript("get-embedded.lua", "/ads/", ids);
    await wrk(emb.url, { connections: CONN, seconds: WARMUP, script: getLua });
    const g = await wrk(emb.url, { connections: CONN, seconds: DURATION, script: getLua });
    addRow({ fig: "6", what: `embedded GET /ads/:id (c=${CONN})`, ours: `${f1(g.rps)}/s (${fmtLat(g.p50, g.p99)})`, limit: "-", ratio: null, target: "report", ok: null });
    const fixed = await openLoop(FIXED_RATE, FIXED_SECONDS, () => postOne(emb.url));
    addRow({ fig: "6", what: `embedded POST /ads at a fixed ${FIXED_RATE}/s`, ours: fmtLat(pct(fixed.latencies, 50), pct(fixed.latencies, 99)), limit: "-", ratio: null, target: "report", ok: null });
    const p: WrkResult = await wrk(`${emb.url}/ads`, { connections: CONN, seconds: DURATION, script: postLua });
    addRow({ fig: "6", what: `embedded POST /ads max throughput (c=${CONN})`, ours: `${f1(p.rps)}/s (${fmtLat(p.p50, p.p99)})`, limit: "-", ratio: null, target: "report", ok: null });
    details.push(
      `**6. embedded HTTP**: GET ${f1(g.rps)}/s non-2xx ${g.non2xx}; POST at ${FIXED_RATE}/s: ${fixed.results.length} ok, ${fixed.errors} errors; POST max ${f1(p.rps)}/s, ${p.requests} requests, non-2xx ${p.non2xx}${p.socketErrors ? `, socket errors ${p.socketErrors}` : ""}. ` +
        `The offline tagger works through the posted backlog in the same process meanwhile (~0.2 s of CPU per photo), so POST competes with it for the 2 cores.`,
    );
    mem["embedded, peak under load"] = `${f0(rss.stop())} MiB`;
    await emb.stop("SIGKILL");
  }
} catch (err) {
  log(`FAILED: ${(err as Error).stack ?? err}`);
  notes.push(`**The run failed part-way**: ${(err as Error).message.split("\n")[0]}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}

/** Spawn → first 200 from /ready (the port from PORT, or from the banner when PORT=0). */
async function coldStart(env: Record<string, string>, cwd: string): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn([BINARY], { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "ignore", stderr: "pipe" });
  try {
    let port = Number(env.PORT);
    let err = "";
    if (!port) {
      const reader = (p.stderr as ReadableStream<Uint8Array>).getReader();
      while (!/listening on port (\d+)/.test(err)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`no banner: ${err}`);
        err += new TextDecoder().decode(value);
      }
      port = Number(/listening on port (\d+)/.exec(err)![1]);
      void (async () => { for (;;) if ((await reader.read()).done) break; })();
    } else void new Response(p.stderr).text();
    const end = t0 + 60_000;
    while (performance.now() < end) {
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) return performance.now() - t0;
      await Bun.sleep(5);
    }
    throw new Error("cold start: no 200 within 60 s");
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
}

// ---------- report ----------
const date = new Date();
const ymd = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
const table = mdTable(
  ["#", "figure", "ours", "limit (same run)", "ratio", "target", ""],
  rows.map((r) => [r.fig, r.what, r.ours, r.limit, r.ratio === null ? "-" : f2(r.ratio), r.target, r.ok === null ? "" : r.ok ? "✅" : "❌"]),
);
const memTable = mdTable(["resident memory (VmRSS of the binary)", "value"], Object.entries(mem));
const md = [
  `# ad-service benchmark — ${date.toISOString().replace("T", " ").slice(0, 16)} UTC`,
  "",
  "Produced by `bun run bench` (bench/run.ts). Ratios compare ours with a limit measured in the same run; absolute numbers move with the load of this shared machine.",
  "",
  ...machine,
  "",
  table,
  "",
  memTable,
  "",
  "## Details",
  "",
  ...details.map((d) => `- ${d}`),
  ...(notes.length ? ["", "## Notes", "", ...notes.map((n) => `- ${n}`)] : []),
  "",
  `Total run time: ${f0((Date.now() - t0All) / 1000)} s; load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}.`,
  "",
].join("\n");
console.log(md);
mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
// A partial run (BENCH_ONLY) gets its own file, so it never overwrites the day's full run.
const outFile = join(BENCH_DIR, "results", process.env.BENCH_ONLY ? `${ymd}-${[...ONLY].join("-")}.md` : `${ymd}.md`);
writeFileSync(outFile, md);
log(`written ${outFile}`);
process.exit(process.exitCode ?? 0);
