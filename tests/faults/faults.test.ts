/**
 * T1–T8 of reliability.md: each injects its fault for real (SIGKILL, stopping RabbitMQ,
 * restarting PostgreSQL, failing doubles) and then checks the invariant.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { AmqpPublisher } from "../../src/services/amqp-queue";
import { silentLogger } from "../../src/services/logger";
import { photo } from "../support/fixtures";
import { AMQP_URL, waitFor } from "../support/stack";
import { invariant, rabbit, report, restartPostgres, settle, startFaultStack, type FaultStack } from "./harness";

let stack: FaultStack;
beforeEach(async () => {
  stack = await startFaultStack();
});
afterEach(async () => {
  await stack.stop();
});

const clean = (r: Awaited<ReturnType<typeof invariant>>) => ({ pending: r.pending, multi: r.decisionsOverOne, missing: r.missingEmails });

describe("T1 crash after commit, before publish", () => {
  test("the ad is found by the sweeper after restart and decided once", async () => {
    const crashing = await stack.start([], { FAILPOINTS: "intake.after-commit=kill" });
    const answered = await stack.submit(crashing.url);
    expect(answered).toBeNull(); // the process died before answering
    expect(await crashing.proc.exited).toBe(137);
    const [row] = await stack.sql<{ id: string; state: string }[]>`select id, state from ads`;
    expect(row!.state).toBe("pending");
    await stack.start();
    const r = await settle(stack, [row!.id]);
    report("T1", "SIGKILL between the row's commit and the publish", r);
    expect(r.decided).toBe(1);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
    expect(r.duplicateEmails).toBe(0);
  });
});

describe("T2 RabbitMQ stopped during a burst", () => {
  test("every submission gets 201 while the broker is down; all are decided after it returns", async () => {
    const svc = await stack.start();
    const ids: Array<string | null> = [];
    for (let i = 0; i < 5; i++) ids.push(await stack.submit(svc.url));
    await rabbit.stop();
    try {
      const during = await Promise.all(Array.from({ length: 20 }, () => stack.submit(svc.url, "none-fruits.jpg")));
      ids.push(...during);
      expect(ids.filter((x) => x === null)).toHaveLength(0);
      const ready = await fetch(`${svc.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.broker).toBe("unavailable");
    } finally {
      await rabbit.start();
    }
    const r = await settle(stack, ids as string[], 90_000);
    report("T2", "rabbitmqctl stop_app during a burst of 20 (5 before)", r);
    expect(r.decided).toBe(25);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
    expect(svc.proc.exitCode).toBeNull();
    // The consumer re-attached: /ready is green again.
    expect(await waitFor(async () => (await fetch(`${svc.url}/ready`)).status === 200, 30_000)).toBe(true);
  }, 150_000);
});

describe("T2b RabbitMQ down when the service starts", () => {
  test("the service starts, takes ads, reports the broker on /ready, and catches up when it returns", async () => {
    await rabbit.stop();
    let svc;
    const ids: Array<string | null> = [];
    try {
      svc = await stack.start();
      for (let i = 0; i < 3; i++) ids.push(await stack.submit(svc.url));
      expect(ids.filter((x) => x === null)).toHaveLength(0);
      const ready = (await (await fetch(`${svc.url}/ready`)).json()) as { checks: Record<string, string> };
      expect(ready.checks).toMatchObject({ broker: "unavailable", consumer: "unavailable", database: "ok" });
    } finally {
      await rabbit.start();
    }
    const r = await settle(stack, ids as string[], 90_000);
    report("T2b", "RabbitMQ stopped before the service started; 3 ads submitted", r);
    expect(r.decided).toBe(3);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
  }, 120_000);
});

describe("T3 worker killed at each step", () => {
  const points = [
    ["worker.after-download", 0],
    ["worker.after-tagging", 0],
    ["worker.after-decision", 0],
    ["worker.after-email", 1],
  ] as const;
  for (const [point, expectedDuplicates] of points) {
    test(`SIGKILL at ${point}`, async () => {
      const crashing = await stack.start([], { FAILPOINTS: `${point}=kill` });
      const id = await stack.submit(crashing.url);
      expect(id).not.toBeNull();
      expect(await crashing.proc.exited).toBe(137);
      await stack.start();
      await settle(stack, [id!], 60_000);
      // Wait until the outbox records the e-mail as sent: after a crash mid-send that takes the
      // lease to expire and the sweeper to pick the e-mail up again.
      const recorded = await waitFor(async () => (await stack.sql`select 1 from emails where ad_id = ${id!} and status = 'sent'`).length === 1, 60_000);
      expect(recorded).toBe(true);
      const r = await invariant(stack, [id!]);
      report("T3", `SIGKILL at ${point}`, r);
      expect(r.decided).toBe(1);
      expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
      // Only a crash between Mailgun's 200 and our commit may send a second e-mail.
      expect(r.duplicateEmails).toBe(expectedDuplicates);
    }, 90_000);
  }
});

describe("a dying worker thread", () => {
  test("takes the process down with a non-zero exit (never a live process without a consumer)", async () => {
    const svc = await stack.start([], { FAILPOINTS: "worker.after-download=crash" });
    const id = await stack.submit(svc.url);
    expect(id).not.toBeNull();
    const code = await svc.proc.exited;
    expect(code).not.toBe(0);
    expect(svc.lines().some((l) => l.msg === "worker thread exited unexpectedly; exiting")).toBe(true);
    await stack.start();
    const r = await settle(stack, [id!]);
    expect(r.decided).toBe(1);
  });
});

describe("T4 PostgreSQL restarted mid-processing", () => {
  test("no ack before commit; the process recovers and decides everything", async () => {
    stack.imagga.faults.delayMs = 300;
    const svc = await stack.start([], { WORKER_CONCURRENCY: "4" });
    const ids = await Promise.all(Array.from({ length: 16 }, (_, i) => stack.submit(svc.url, i % 2 ? "vehicle-bus.jpg" : "none-cat.png")));
    expect(ids.filter((x) => x === null)).toHaveLength(0);
    await restartPostgres(3000);
    stack.imagga.faults.delayMs = 0;
    const r = await settle(stack, ids as string[], 90_000);
    report("T4", "PostgreSQL stopped for 3 s (fast: connections cut) while 16 ads were in processing", r);
    const hit = svc.lines().filter((l) => /retry|failed/.test(String(l.msg)) && JSON.stringify(l).includes("database"));
    console.log(`T4: ${hit.length} log lines show the database fault being retried`);
    expect(hit.length).toBeGreaterThan(0);
    expect(r.decided).toBe(16);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
    expect(svc.proc.exitCode).toBeNull();
    expect(await waitFor(async () => (await fetch(`${svc.url}/ready`)).status === 200, 20_000)).toBe(true);
    // And intake works again.
    expect(await stack.submit(svc.url)).not.toBeNull();
  }, 150_000);
});

describe("T5 duplicates and redelivery", () => {
  test("each id published twice more, and again after completion: one decision, one e-mail", async () => {
    const svc = await stack.start();
    const pub = new AmqpPublisher({ url: AMQP_URL, queue: stack.queue, retryDelaysMs: [], log: silentLogger }, 5000);
    const ids = (await Promise.all(Array.from({ length: 10 }, () => stack.submit(svc.url)))) as string[];
    await Promise.all(ids.flatMap((id) => [pub.publishAdSubmitted(id), pub.publishAdSubmitted(id)]));
    await settle(stack, ids);
    await Promise.all(ids.map((id) => pub.publishAdSubmitted(id)));
    await Bun.sleep(1000);
    await pub.close();
    const r = await invariant(stack, ids);
    report("T5", "every id published 3 times, then once more after completion", r);
    expect(r.decided).toBe(10);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
    expect(r.duplicateEmails).toBe(0);
  });
});

describe("T6 poison", () => {
  test("an image Imagga always refuses (400) and one it always fails on (500) end failed; others keep flowing", async () => {
    const svc = await stack.start();
    stack.imagga.failFor(photo("vehicle-boats-harbour.jpg"), 400);
    stack.imagga.failFor(photo("vehicle-motorcycle.png"), 500);
    const permanent = await stack.submit(svc.url, "vehicle-boats-harbour.jpg");
    const transient = await stack.submit(svc.url, "vehicle-motorcycle.png");
    const good = (await Promise.all(Array.from({ length: 6 }, () => stack.submit(svc.url, "vehicle-bus.jpg")))) as string[];
    const r = await settle(stack, [permanent!, transient!, ...good], 60_000);
    report("T6", "Imagga 400 for one image, 500 forever for another, 6 good ads", r);
    expect(r.failed).toBe(2);
    expect(r.decided).toBe(6);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
    const [p] = await stack.sql`select attempts, last_error from ads where id = ${permanent!}`;
    const [t] = await stack.sql`select attempts, last_error from ads where id = ${transient!}`;
    expect(p!.attempts).toBe(1); // a permanent error fails fast
    expect(t!.attempts).toBe(5); // the first try plus four retries (RETRY_DELAYS has four steps)
    expect(t!.last_error).toContain("500");
    // Both are in the dead-letter queue for an operator.
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/queue_depth\{queue="dead"\} 2/);
    expect(metrics).toMatch(/ads_failed_total 2/);
  }, 90_000);

  test("an ad whose image vanished from storage fails at once (permanent)", async () => {
    const api = await stack.start(["api"]);
    const id = await stack.submit(api.url);
    const [row] = await stack.sql<{ image_key: string }[]>`select image_key from ads where id = ${id!}`;
    const { S3Client, DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = new S3Client({ endpoint: stack.env.S3_ENDPOINT, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: stack.env.S3_ACCESS_KEY_ID, secretAccessKey: stack.env.S3_SECRET_ACCESS_KEY } });
    await s3.send(new DeleteObjectCommand({ Bucket: stack.env.S3_BUCKET, Key: row!.image_key }));
    await stack.start(["worker"]);
    const r = await settle(stack, [id!]);
    expect(r.failed).toBe(1);
    const [ad] = await stack.sql`select attempts, last_error from ads where id = ${id!}`;
    expect(ad!.attempts).toBe(1);
    expect(ad!.last_error).toContain("missing");
  });
});

describe("T7 transient", () => {
  test("Imagga answers 429 three times, then 200: accepted with attempts ≤ the budget", async () => {
    stack.imagga.faults.failNext(3, 429, null);
    const svc = await stack.start();
    const id = await stack.submit(svc.url);
    const r = await settle(stack, [id!]);
    report("T7", "Imagga 429 ×3 then 200", r);
    expect(r.decided).toBe(1);
    const [ad] = await stack.sql`select state, attempts from ads where id = ${id!}`;
    expect(ad).toMatchObject({ state: "accepted", attempts: 3 });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('processing_retries_total{provider="tagger",reason="http_429"} 3');
  });
});

describe("T8 SIGTERM under load", () => {
  test("in-flight requests all complete, exit 0 within the grace period, nothing lost after restart", async () => {
    stack.imagga.faults.delayMs = 400;
    // Every submission takes ≥300 ms, so many are in flight when the signal lands.
    const svc = await stack.start([], { FAILPOINTS: "intake.after-commit=delay:300" });
    const ids: string[] = [];
    const errors: string[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${svc.url}/ads`, {
            method: "POST",
            headers: { connection: "close" },
            body: (await import("../support/stack")).adForm({ description: "load", email: "l@example.com", image: photo("vehicle-bus.jpg") }),
          });
          if (res.status === 201) ids.push(((await res.json()) as { id: string }).id);
          else errors.push(`status ${res.status}`);
        } catch (e) {
          const code = (e as { code?: string }).code ?? (e as Error).message;
          // Refused: the listener is already closed (a new request, not an in-flight one).
          if (code !== "ConnectionRefused" && !/refused/i.test(code)) errors.push(code);
          stop = true;
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await Bun.sleep(1200);
    const t0 = performance.now();
    svc.proc.kill("SIGTERM");
    const code = await svc.proc.exited;
    const took = performance.now() - t0;
    stop = true;
    await Promise.all(clients);
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(errors).toEqual([]);
    expect(ids.length).toBeGreaterThan(5);
    await stack.start();
    stack.imagga.faults.delayMs = 0;
    const r = await settle(stack, ids, 60_000);
    report("T8", `SIGTERM with 6 clients posting (exit in ${took.toFixed(0)} ms)`, r);
    expect(r.decided).toBe(ids.length);
    expect(clean(r)).toEqual({ pending: 0, multi: 0, missing: 0 });
  }, 90_000);
});
