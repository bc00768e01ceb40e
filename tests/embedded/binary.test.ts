/**
 * Zero configuration, through the compiled binary: started with an EMPTY environment in an empty
 * directory, it takes ads and decides them with the embedded defaults (PGlite, files, in-process
 * queue, the offline detector, the outbox). A restart mid-processing loses nothing; a second copy
 * on the same DATA_DIR refuses clearly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinary, startBinary, type Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, waitFor } from "../support/stack";

let dir: string;
const running: Running[] = [];

beforeAll(async () => {
  await ensureBinary();
  dir = mkdtempSync(join(tmpdir(), "ad-service-zero-config-"));
});
afterAll(async () => {
  for (const r of running) await r.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the binary with nothing but PATH (Bun needs no other variable) in `dir`. */
async function start(extra: Record<string, string> = {}) {
  const r = await startBinary([], { ...extra }, { cwd: dir, timeoutMs: 90_000 });
  running.push(r);
  return r;
}

async function submit(url: string, file: string): Promise<string> {
  const res = await fetch(`${url}/ads`, { method: "POST", body: adForm({ description: `Zero-config ${file}`, email: "newcomer@example.com", image: photo(file) }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const status = async (url: string, id: string) => (await (await fetch(`${url}/ads/${id}`)).json()) as Record<string, string>;

describe("./ad-service with no configuration", () => {
  let svc: Running;

  test("starts on embedded defaults and says so", async () => {
    const t0 = performance.now();
    svc = await start();
    console.log(`zero-config first start (empty DATA_DIR) to listening: ${(performance.now() - t0).toFixed(0)} ms`);
    const out = svc.output();
    for (const line of ["embedded PostgreSQL (PGlite)", "files", "in-process", "offline detector", "outbox", "ADMIN_PASSWORD was not set"]) expect(out).toContain(line);
    expect(svc.port).toBe(3000);
    expect(existsSync(join(dir, "data"))).toBe(true);
    expect((await fetch(`${svc.url}/ready`)).status).toBe(200);
  }, 120_000);

  test("accepts a real vehicle photo and rejects a real non-vehicle photo, end to end", async () => {
    const car = await submit(svc.url, "vehicle-car-rear.jpg");
    const cat = await submit(svc.url, "none-cat.png");
    expect(await waitFor(async () => (await status(svc.url, car)).state !== "pending" && (await status(svc.url, cat)).state !== "pending", 60_000)).toBe(true);
    expect(await status(svc.url, car)).toMatchObject({ state: "accepted", category: "car" });
    expect(await status(svc.url, cat)).toMatchObject({ state: "rejected" });
    // The e-mails went to the outbox: logged, and listed in the dashboard.
    await waitFor(() => svc.lines().filter((l) => String(l.msg).startsWith("e-mail kept in the outbox")).length >= 2, 10_000);
    const outbox = svc.lines().filter((l) => String(l.msg).startsWith("e-mail kept in the outbox"));
    expect(outbox.map((l) => l.ad_id).sort()).toEqual([car, cat].sort());
    const password = /generated for this run \(shown once\): (\S+)/.exec(svc.output())![1]!;
    const login = await fetch(`${svc.url}/admin/login`, { method: "POST", body: new URLSearchParams({ password }), redirect: "manual" });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await fetch(`${svc.url}/admin/outbox`, { headers: { cookie } })).text();
    expect(page).toContain("Your ad was accepted (car)");
    expect(page).toContain("Your ad was not approved");
  }, 90_000);

  test("a second copy on the same DATA_DIR refuses clearly", async () => {
    const p = Bun.spawn([await ensureBinary()], { cwd: dir, env: { PATH: process.env.PATH!, PORT: "0" }, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    expect(code).not.toBe(0);
    expect(out + err).toMatch(/in use by another process|locked/i);
    // The first copy is unharmed.
    expect((await fetch(`${svc.url}/ready`)).status).toBe(200);
  }, 60_000);

  test("defaults: a crash (SIGKILL) in the middle of processing loses nothing: every ad decided and e-mailed within 60 s of the restart", async () => {
    const ids: string[] = [];
    for (const f of ["vehicle-bus.jpg", "vehicle-motorcycle.png", "none-fruits.jpg", "vehicle-car-rear.jpg", "none-coffee.png", "vehicle-bus.jpg"]) ids.push(await submit(svc.url, f));
    const before = svc;
    expect(await svc.stop("SIGKILL")).toBe(137);
    const t0 = performance.now();
    svc = await start();
    console.log(`zero-config restart (existing DATA_DIR) to listening: ${(performance.now() - t0).toFixed(0)} ms`);
    // Every ad decided AND its e-mail in the outbox (sent by the first run or by the restarted one).
    const mailed = () => new Set([...before.lines(), ...svc.lines()].filter((l) => String(l.msg).startsWith("e-mail kept in the outbox")).map((l) => String(l.ad_id)));
    const done = await waitFor(async () => {
      for (const id of ids) if ((await status(svc.url, id)).state === "pending") return false;
      return ids.every((id) => mailed().has(id));
    }, 60_000);
    console.log(`zero-config crash recovery: every ad decided and e-mailed ${(performance.now() - t0).toFixed(0)} ms after the restart began`);
    expect(ids.filter((id) => !mailed().has(id))).toEqual([]);
    expect(done).toBe(true);
    const states = await Promise.all(ids.map(async (id) => (await status(svc.url, id)).state));
    expect(states.filter((s) => s === "accepted").length).toBeGreaterThanOrEqual(3);
    expect(await svc.stop("SIGTERM")).toBe(0);
  }, 180_000);
});
