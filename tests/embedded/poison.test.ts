/**
 * A poison job under a supervisor. The compiled binary runs in zero-config mode (PGlite, files,
 * in-process queue, offline detector, outbox) under a loop that restarts it whenever it exits,
 * like systemd's Restart=always, with FAILPOINTS=worker.after-download=kill@POISON: every process
 * that downloads the image of the ad whose description contains POISON dies at once (SIGKILL).
 *
 * The contract: each processing start is counted before the work (`ads.processing_starts`); an ad
 * whose processing started MAX_PROCESSING_STARTS (default 3) times without finishing is failed
 * with a "crashed" error (public status: still pending; the dashboard: failed), and then the
 * process stays up. A normal ad posted beside it is decided and e-mailed regardless.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinary, parseLogLines } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, waitFor } from "../support/stack";

/** Restarts after an exit wait this long (systemd's RestartSec; kept short for the test). */
const RESTART_DELAY_MS = 250;

interface Run {
  proc: ReturnType<typeof Bun.spawn>;
  out: string;
  port: number;
  exit: number | null;
}

/** Runs the binary again and again until stopped; keeps every run's output. */
class Supervisor {
  readonly runs: Run[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly bin: string,
    private readonly cwd: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const run: Run = { proc: Bun.spawn([this.bin], { cwd: this.cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...this.env }, stdout: "pipe", stderr: "pipe" }), out: "", port: 0, exit: null };
        this.runs.push(run);
        const pump = async (s: ReadableStream<Uint8Array>) => {
          const dec = new TextDecoder();
          const reader = s.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            run.out += dec.decode(value, { stream: true });
            run.port ||= Number(/listening on port (\d+)/.exec(run.out)?.[1] ?? 0);
          }
        };
        const pumps = Promise.all([pump(run.proc.stdout as ReadableStream<Uint8Array>), pump(run.proc.stderr as ReadableStream<Uint8Array>)]);
        run.exit = await run.proc.exited;
        await pumps.catch(() => {});
        if (!this.stopped) await Bun.sleep(RESTART_DELAY_MS);
      }
    })();
  }

  /** The run now in progress (or the last one). */
  get current(): Run {
    return this.runs[this.runs.length - 1]!;
  }

  /** The URL of a run that is up and listening (waits for one). */
  async url(timeoutMs = 90_000): Promise<string> {
    const ok = await waitFor(() => this.current && this.current.exit === null && this.current.port > 0, timeoutMs, 20);
    if (!ok) throw new Error(`no running copy of the binary:\n${this.current?.out.slice(-3000)}`);
    return `http://127.0.0.1:${this.current.port}`;
  }

  /** Runs that ended by SIGKILL. */
  get kills(): number {
    return this.runs.filter((r) => r.exit === 137).length;
  }

  /** Every JSON log line of every run. */
  lines(): Array<Record<string, unknown>> {
    return this.runs.flatMap((r) => parseLogLines(r.out));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const r = this.current;
    if (r && r.exit === null) {
      r.proc.kill("SIGTERM");
      const t = setTimeout(() => r.proc.kill("SIGKILL"), 30_000);
      await r.proc.exited;
      clearTimeout(t);
    }
    await this.loop;
  }
}

let dir: string;
let sup: Supervisor;

beforeAll(async () => {
  const bin = await ensureBinary();
  dir = mkdtempSync(join(tmpdir(), "ad-service-poison-"));
  // Zero-config defaults otherwise (MAX_PROCESSING_STARTS included); a free port each start.
  sup = new Supervisor(bin, dir, { PORT: "0", FAILPOINTS: "worker.after-download=kill@POISON" });
  sup.start();
}, 300_000);

afterAll(async () => {
  await sup?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function submit(description: string): Promise<string> {
  const res = await fetch(`${await sup.url()}/ads`, { method: "POST", body: adForm({ description, email: "poster@example.com", image: photo("vehicle-car-rear.jpg") }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Posts an ad whose description holds the unique `marker`. A poison ad may kill the process while
 * a POST is in flight (the in-process queue hands an ad to the worker at once), so on a dropped
 * connection the ad is looked up in the dashboard by its marker (it may have been committed),
 * and posted again only if it is not there: never two copies of one ad.
 */
async function submitOnce(description: string, marker: string): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await submit(description);
    } catch (err) {
      if (!/ECONNRESET|socket|closed|ECONNREFUSED/i.test(String(err))) throw err;
    }
    const found = await waitFor(async () => {
      try {
        const { url, cookie } = await signIn();
        for (const state of ["pending", "review", "accepted", "rejected", "failed"]) {
          const html = await (await fetch(`${url}/admin/rows?state=${state}&q=${marker}`, { headers: { cookie } })).text();
          const id = /\/admin\/ads\/([0-9a-f-]{36})/.exec(html)?.[1];
          if (id) return id;
        }
      } catch {}
      return null;
    }, 10_000, 500);
    if (found) return found;
  }
  throw new Error(`could not post the ad marked ${marker}`);
}

/** A dashboard session on the running copy, with this run's generated password. */
async function signIn(): Promise<{ url: string; cookie: string }> {
  const url = await sup.url();
  const password = /generated for this run \(shown once\): (\S+)/.exec(sup.current.out)?.[1];
  if (!password) throw new Error("no generated admin password in this run's output");
  const login = await fetch(`${url}/admin/login`, { method: "POST", body: new URLSearchParams({ password }), redirect: "manual" });
  if (login.status !== 303) throw new Error(`login: ${login.status}`);
  return { url, cookie: login.headers.get("set-cookie")!.split(";")[0]! };
}

/** The public status of an ad from whichever copy is running (null while none answers). */
async function status(id: string): Promise<Record<string, string> | null> {
  try {
    const res = await fetch(`${await sup.url(30_000)}/ads/${id}`);
    return res.ok ? ((await res.json()) as Record<string, string>) : null;
  } catch {
    return null; // the copy died mid-request; the supervisor starts another
  }
}

/** The dashboard's page for an ad. */
async function adminPage(id: string): Promise<string> {
  const { url, cookie } = await signIn();
  const res = await fetch(`${url}/admin/ads/${id}`, { headers: { cookie } });
  if (res.status !== 200) throw new Error(`admin page: ${res.status}`);
  return res.text();
}

test("a poison ad crashes the worker a bounded number of times, then fails as crashed; the other ad is decided and e-mailed; the process stays up", async () => {
  await sup.url(120_000);
  const t0 = Date.now();
  // The poison ad first, the normal ad right behind it: both are in flight when the first
  // worker dies, and both are dispatched again after each restart.
  const poison = await submitOnce("Red hatchback, POISON: this ad kills every worker that downloads its photo", "POISON");
  const normal = await submitOnce("Silver estate car, one owner, ref NORMALAD1", "NORMALAD1");

  // The poison ad ends failed. Publicly it is still "in review"; the dashboard says failed/crashed.
  const seenFailed = await waitFor(async () => {
    if (Date.now() - t0 < 1000) return false;
    try {
      const html = await adminPage(poison);
      return html.includes("badge-failed") ? html : false;
    } catch {
      return false; // a copy died between the steps
    }
  }, 150_000, 500);
  const elapsed = Date.now() - t0;
  console.log(
    `poison ad: failed after ${(elapsed / 1000).toFixed(1)} s; ${sup.runs.length} starts of the binary, ${sup.kills} SIGKILLs by the failpoint; exits: ${sup.runs.map((r) => r.exit).join(",")}`,
  );
  expect(seenFailed).toBeTruthy();
  const html = seenFailed as string;
  expect(html).toMatch(/crashed/i);
  expect(await status(poison)).toMatchObject({ state: "pending" });

  // Bounded: MAX_PROCESSING_STARTS (3) starts that died, give or take one, then no more.
  expect(sup.kills).toBeGreaterThanOrEqual(1);
  expect(sup.kills).toBeLessThanOrEqual(4);
  expect(sup.runs.length).toBeLessThanOrEqual(5);

  // The normal ad is decided (the car photo: accepted) and its e-mail went to the outbox.
  const decided = await waitFor(async () => {
    const s = await status(normal);
    return s && s.state !== "pending" ? s : null;
  }, 90_000, 250);
  expect(decided).toMatchObject({ state: "accepted", category: "car" });
  const mailed = await waitFor(() => sup.lines().some((l) => String(l.msg).startsWith("e-mail kept in the outbox") && l.ad_id === normal), 30_000, 100);
  expect(mailed).toBe(true);
  const mailedBy = sup.runs.findIndex((r) => r.out.includes("e-mail kept in the outbox") && r.out.includes(normal));
  console.log(`normal ad: ${decided!.state}, e-mailed by start #${mailedBy + 1} of the binary`);
  // The failed poison ad got no e-mail (an operator decides it).
  expect(sup.lines().some((l) => String(l.msg).startsWith("e-mail kept in the outbox") && l.ad_id === poison)).toBe(false);

  // The process stays up: no more restarts over a few seconds, healthy and ready.
  const runs = sup.runs.length;
  await Bun.sleep(5000);
  expect(sup.runs.length).toBe(runs);
  expect(sup.current.exit).toBeNull();
  const url = await sup.url();
  expect((await fetch(`${url}/health`)).status).toBe(200);
  expect((await fetch(`${url}/ready`)).status).toBe(200);
}, 300_000);
