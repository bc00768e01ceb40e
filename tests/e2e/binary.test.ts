/**
 * End to end through the compiled binary and HTTP only, against PostgreSQL, RabbitMQ, Ceph RGW
 * and the Imagga/Mailgun doubles. Also: the CLI, config errors, roles, and secrets in logs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startImaggaDouble, type ImaggaDouble } from "../doubles/imagga";
import { startMailgunDouble, type MailgunDouble } from "../doubles/mailgun";
import { ensureBinary, startBinary, type Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, createTestDatabase, deleteQueues, testEnv, waitFor } from "../support/stack";

// Canary secrets: the service must work with them and never print them.
const CANARY = { imagga: "canary-imagga-5ecret", mailgun: "canary-mailgun-k3y", dbPassword: "canary-db-pa55word" };

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let imagga: ImaggaDouble;
let mailgun: MailgunDouble;
let env: Record<string, string>;
const running: Running[] = [];
const queue = `e2e.ads.${Date.now().toString(36)}`;

beforeAll(async () => {
  await ensureBinary();
  db = await createTestDatabase();
  imagga = startImaggaDouble({ secret: CANARY.imagga });
  mailgun = startMailgunDouble({ key: CANARY.mailgun });
  // Trust auth ignores the password, so the canary can ride in the URL.
  const dbUrl = db.url.replace("postgres@", `postgres:${CANARY.dbPassword}@`);
  env = testEnv({ databaseUrl: dbUrl, queue, bucket: `e2e-${Date.now().toString(36)}`, imaggaUrl: imagga.url, mailgunUrl: mailgun.url }, {
    IMAGGA_API_SECRET: CANARY.imagga,
    MAILGUN_API_KEY: CANARY.mailgun,
    PORT: "0",
    LOG_LEVEL: "debug",
  });
});

afterAll(async () => {
  for (const r of running) await r.stop("SIGKILL");
  imagga.stop();
  mailgun.stop();
  await deleteQueues(queue);
  await db.drop();
});

async function start(args: string[] = [], extra: Record<string, string> = {}) {
  const r = await startBinary(args, { ...env, ...extra });
  running.push(r);
  return r;
}

async function run(args: string[], e: Record<string, string>) {
  const p = Bun.spawn([await ensureBinary(), ...args], { env: { PATH: process.env.PATH!, ...e }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}

describe("the CLI", () => {
  test("--version and --help", async () => {
    const v = await run(["--version"], {});
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await run(["--help"], {});
    expect(h.code).toBe(0);
    for (const role of ["api", "worker", "migrate"]) expect(h.stdout).toContain(role);
  });

  test("an unknown role exits 2 with the usage", async () => {
    const r = await run(["frobnicate"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown argument");
  });

  test("bad configuration exits 2 naming each problem, without echoing values", async () => {
    const r = await run([], { ...env, DATABASE_URL: "not a url", MAILGUN_DOMAIN: "", WORKER_CONCURRENCY: "lots", S3_ENDPOINT: CANARY.imagga });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DATABASE_URL must be an absolute URL");
    expect(r.stderr).toContain("MAILGUN_DOMAIN is required when MAILGUN_API_KEY is set");
    expect(r.stderr).toContain("WORKER_CONCURRENCY must be an integer");
    expect(r.stderr).toContain("S3_ENDPOINT must be an absolute URL");
    expect(r.stderr + r.stdout).not.toContain(CANARY.imagga);
  });

  test("a .env file in the working directory is honoured", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ad-service-env-"));
    writeFileSync(join(dir, ".env"), Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
    const r = await startBinary(["api"], {}, { cwd: dir });
    try {
      expect((await fetch(`${r.url}/health`)).status).toBe(200);
    } finally {
      expect(await r.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("migrate applies the schema and exits 0", async () => {
    const r = await run(["migrate"], env);
    expect(r.code).toBe(0);
  });
});

describe("the binary, end to end over HTTP", () => {
  let svc: Running;
  let coldStartMs = 0;

  test("starts and becomes ready", async () => {
    const t0 = performance.now();
    svc = await start();
    await waitFor(async () => (await fetch(`${svc.url}/health`).catch(() => null))?.ok, 10_000, 10);
    coldStartMs = performance.now() - t0;
    const ready = await fetch(`${svc.url}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).toEqual({ database: "ok", broker: "ok", storage: "ok", consumer: "ok" });
    console.log(`binary cold start to first 200: ${coldStartMs.toFixed(0)} ms`);
  });

  test("a vehicle photo is accepted and e-mailed; a non-vehicle photo is rejected and e-mailed", async () => {
    const submit = async (file: string, description: string) => {
      const t0 = performance.now();
      const res = await fetch(`${svc.url}/ads`, { method: "POST", body: adForm({ description, email: "buyer@example.com", image: photo(file) }) });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      return { id, t0 };
    };
    const car = await submit("vehicle-car-rear.jpg", "<b>Estate car</b>, full service history");
    const cat = await submit("none-cat.png", "My cat (not for sale)");
    const status = async (id: string) => (await (await fetch(`${svc.url}/ads/${id}`)).json()) as Record<string, string>;

    expect(await waitFor(async () => (await status(car.id)).state === "accepted")).toBe(true);
    const decidedIn = performance.now() - car.t0;
    expect(await waitFor(async () => (await status(cat.id)).state === "rejected")).toBe(true);
    await waitFor(() => mailgun.forAd(car.id).length === 1 && mailgun.forAd(cat.id).length === 1);
    console.log(`submit → decision (binary, doubles): ${decidedIn.toFixed(0)} ms`);

    const s = await status(car.id);
    expect(s).toMatchObject({ state: "accepted", category: "car", description: "<b>Estate car</b>, full service history", image_url: `/ads/${car.id}/image` });
    expect(await status(cat.id)).toMatchObject({ state: "rejected", message: "Your ad was not approved" });
    const img = await fetch(`${svc.url}${s.image_url}`);
    expect(img.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await img.arrayBuffer()).equals(Buffer.from(photo("vehicle-car-rear.jpg")))).toBe(true);

    expect(mailgun.forAd(car.id)).toHaveLength(1);
    expect(mailgun.forAd(car.id)[0]!.html).toContain("&lt;b&gt;Estate car&lt;/b&gt;");
    expect(mailgun.forAd(cat.id)[0]!.subject).toBe("Your ad was not approved");
  });

  test("a second copy on the same port refuses to start", async () => {
    const r = await run([], { ...env, PORT: String(svc.port) });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("cannot listen");
  });

  test("SIGTERM: exits 0 promptly", async () => {
    const t0 = performance.now();
    const code = await svc.stop("SIGTERM");
    expect(code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(svc.lines().some((l) => l.msg === "stopped")).toBe(true);
  });
});

describe("separate api and worker copies cooperate", () => {
  test("two workers share the queue; the api copy only publishes", async () => {
    const api = await start(["api"]);
    const w1 = await start(["worker"]);
    const w2 = await start(["worker"]);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${api.url}/ads`, { method: "POST", body: adForm({ description: `Bus ${i}`, email: "b@example.com", image: photo("vehicle-bus.jpg") }) });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const all = await waitFor(() => ids.every((id) => mailgun.forAd(id).length === 1), 20_000);
    expect(all).toBe(true);
    const decidedBy = (r: Running) => new Set(r.lines().filter((l) => l.msg === "ad decided").map((l) => l.ad_id));
    const [a, b] = [decidedBy(w1), decidedBy(w2)];
    expect(a.size + b.size).toBe(12);
    expect([...a].filter((x) => b.has(x))).toEqual([]);
    expect(decidedBy(api).size).toBe(0);
    // The worker role serves health checks only.
    expect((await fetch(`${w1.url}/ready`)).status).toBe(200);
    expect((await fetch(`${w1.url}/ads/${ids[0]}`)).status).toBe(404);
    for (const r of [api, w1, w2]) expect(await r.stop()).toBe(0);
  });
});

describe("logs", () => {
  test("are JSON lines and never contain a secret", () => {
    const all = running.map((r) => r.output()).join("\n");
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of Object.values(CANARY)) expect(all).not.toContain(secret);
    const lines = all.split("\n").filter(Boolean);
    // Every line is JSON except the human start-up banner (stderr).
    for (const l of lines.filter((l) => !/^(ad-service \S+ \(\w+\) listening|  )/.test(l))) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.some((l) => l.includes('"ad_id"'))).toBe(true);
  });
});
