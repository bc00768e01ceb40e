/**
 * Helpers for bench/run.ts: load generators (wrk, open-loop fetch, closed-loop loops), pgbench,
 * resident-memory sampling, statistics and markdown.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BENCH_DIR = import.meta.dir;
export const TMP = join(BENCH_DIR, "tmp");
mkdirSync(TMP, { recursive: true });

export const PGBENCH = process.env.PGBENCH ?? "/usr/lib/postgresql/15/bin/pgbench";

/** Runs a command; returns exit code and output (never throws on a non-zero exit). */
export async function run(cmd: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...opts.env }, cwd: opts.cwd });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}

/** Installs a Debian package non-interactively if `probe` is missing. */
export async function ensureTool(probe: string, pkg: string): Promise<void> {
  if (existsSync(probe) || Bun.which(probe)) return;
  console.error(`[bench] ${probe} missing: apt-get install -y ${pkg}`);
  let r = await run(["apt-get", "install", "-y", "--no-install-recommends", pkg], { env: { DEBIAN_FRONTEND: "noninteractive" } });
  if (r.code !== 0) {
    await run(["apt-get", "update"], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    r = await run(["apt-get", "install", "-y", "--no-install-recommends", pkg], { env: { DEBIAN_FRONTEND: "noninteractive" } });
  }
  if (r.code !== 0 || !(existsSync(probe) || Bun.which(probe))) throw new Error(`could not install ${pkg}: ${r.err}`);
}

// ---------- statistics ----------

export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}
export const median = (v: number[]) => pct(v, 50);

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : "n/a");

// ---------- wrk ----------

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  socketErrors: string;
  raw: string;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === "us" ? n / 1000 : unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : NaN;
}

export function parseWrk(out: string): WrkResult {
  const lat = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: lat("50"),
    p99: lat("99"),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: /Socket errors: (.*)/.exec(out)?.[1] ?? "",
    raw: out,
  };
}

export async function wrk(url: string, opts: { connections: number; seconds: number; script?: string; threads?: number }): Promise<WrkResult> {
  const args = ["wrk", `-t${opts.threads ?? 2}`, `-c${opts.connections}`, `-d${opts.seconds}s`, "--timeout", "10s", "--latency"];
  if (opts.script) args.push("-s", opts.script);
  args.push(url);
  const r = await run(args);
  if (r.code !== 0) throw new Error(`wrk failed: ${r.err}${r.out}`);
  return parseWrk(r.out);
}

/** A wrk Lua script that POSTs `body` (a file) with `contentType`. */
export function wrkPostScript(name: string, bodyFile: string, contentType: string): string {
  const path = join(TMP, name);
  writeFileSync(
    path,
    `local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = ${JSON.stringify(contentType)}
`,
  );
  return path;
}

/** A wrk Lua script that GETs `prefix + a random id` (the same script is used against the hello-world server). */
export function wrkGetScript(name: string, prefix: string, ids: string[]): string {
  const path = join(TMP, name);
  writeFileSync(
    path,
    `local ids = { ${ids.map((i) => JSON.stringify(i)).join(", ")} }
math.randomseed(os.time())
request = function()
  return wrk.format("GET", ${JSON.stringify(prefix)} .. ids[math.random(#ids)])
end
`,
  );
  return path;
}

// ---------- pgbench ----------

export interface PgbenchResult {
  tps: number;
  latencyAvgMs: number;
  raw: string;
}

export async function pgbench(dbUrl: string, script: string, opts: { clients: number; seconds: number; rate?: number }): Promise<PgbenchResult> {
  const u = new URL(dbUrl);
  const file = join(TMP, `pgbench-${Math.random().toString(36).slice(2)}.sql`);
  writeFileSync(file, script);
  const r = await run(
    [PGBENCH, "-n", "-M", "prepared", "-c", String(opts.clients), "-j", "2", "-T", String(opts.seconds), ...(opts.rate ? ["-R", String(opts.rate)] : []), "-f", file,
      "-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres"), u.pathname.slice(1)],
  );
  rmSync(file, { force: true });
  if (r.code !== 0) throw new Error(`pgbench failed: ${r.err}${r.out}`);
  return {
    tps: Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(r.out)?.[1] ?? NaN),
    latencyAvgMs: Number(/latency average = ([\d.]+) ms/.exec(r.out)?.[1] ?? NaN),
    raw: r.out,
  };
}

// ---------- generic loops ----------

/**
 * Open loop: fires `fire()` at `rate` per second for `seconds`, never waiting for answers (so a
 * slow server cannot slow the offered load). Latency is from the scheduled send time.
 */
export async function openLoop<T>(rate: number, seconds: number, fire: (i: number) => Promise<T>): Promise<{ latencies: number[]; results: T[]; errors: number; achievedRate: number }> {
  const n = Math.round(rate * seconds);
  const t0 = performance.now();
  const latencies: number[] = [];
  const results: T[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    pending.push(
      fire(i).then(
        (r) => {
          latencies.push(performance.now() - at);
          results.push(r);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  const sentIn = (performance.now() - t0) / 1000;
  await Promise.all(pending);
  return { latencies, results, errors, achievedRate: n / Math.max(sentIn, 1e-9) };
}

/** Closed loop: `concurrency` loops each calling `fn()` back to back for `seconds`. */
export async function closedLoop(concurrency: number, seconds: number, fn: (i: number) => Promise<void>): Promise<{ rps: number; p50: number; p99: number; n: number; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await fn(seq++);
          lat.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }),
  );
  const el = (performance.now() - t0) / 1000;
  return { rps: lat.length / el, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, errors };
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function pool<T, R>(items: T[], concurrency: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// ---------- memory ----------

/** VmRSS of a process in MiB (NaN if gone). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; keeps the max. */
export function rssSampler(pid: number, everyMs = 200) {
  let max = 0;
  const samples: Array<{ t: number; mib: number }> = [];
  const t0 = performance.now();
  const tick = () => {
    const v = rssMiB(pid);
    if (Number.isFinite(v)) {
      max = Math.max(max, v);
      samples.push({ t: (performance.now() - t0) / 1000, mib: v });
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    get max() {
      return max;
    },
    samples,
    stop() {
      clearInterval(timer);
      tick();
      return max;
    },
  };
}

// ---------- misc ----------

/** A free TCP port on loopback (bound then released). */
export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const p = s.port!;
  s.stop(true);
  return p;
}

/** The multipart body of one ad, as bytes plus its content type (for wrk and for fetch). */
export async function multipartBody(image: Uint8Array, filename: string): Promise<{ body: Uint8Array; contentType: string }> {
  const f = new FormData();
  f.append("description", "Benchmark ad: red double-decker bus, runs well");
  f.append("email", "bench@example.com");
  f.append("image", new Blob([image as BlobPart], { type: "image/jpeg" }), filename);
  const r = new Response(f);
  return { contentType: r.headers.get("content-type")!, body: new Uint8Array(await r.arrayBuffer()) };
}

export function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}
