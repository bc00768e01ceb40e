/**
 * The whole pipeline in-process, over both sets of backends:
 * - real: the HTTP app publishes to RabbitMQ; the consumer (the same code the worker thread runs)
 *   fetches from Ceph RGW, tags through the Imagga double, decides in PostgreSQL and e-mails
 *   through the Mailgun double;
 * - embedded: the same scenarios on PGlite, files under DATA_DIR and the in-process queue.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildConsumer, buildHandlerDeps } from "../../src/compose";
import { startScheduler } from "../../src/consumer/scheduler";
import type { AdPublisher } from "../../src/queue/queue";
import { handleAdMessage, type HandlerDeps } from "../../src/consumer/handle-ad-message";
import { AmqpPublisher, topology } from "../../src/queue/amqp";
import { silentLogger } from "../../src/platform/logger";
import { serviceMetrics } from "../../src/platform/metrics";
import { buildTestApp } from "../support/app";
import { photo } from "../support/fixtures";
import { adForm, AMQP_URL, queueDepth, startTestStack, waitFor, type StackMode } from "../support/stack";
import { LocalConsumer } from "../../src/queue/local";
import { emailsOf, eventsOf } from "../support/rows";

const MODE = (process.env.PIPELINE_MODE ?? "real") as StackMode;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let t: Awaited<ReturnType<typeof buildTestApp>>;
let consumer: ReturnType<typeof buildConsumer> | null = null;
let deps: HandlerDeps;
let scheduler: ReturnType<typeof startScheduler> | null = null;
let schedulerPublisher: AdPublisher | null = null;

beforeAll(async () => {
  stack = await startTestStack({}, MODE);
  t = await buildTestApp(stack.config);
  deps = buildHandlerDeps(stack.config, silentLogger, serviceMetrics(), t.repo, t.storage);
}, 60_000);
afterAll(async () => {
  scheduler?.stop();
  await schedulerPublisher?.close();
  await consumer?.stop(2000);
  await t.close();
  await stack.stop();
});

async function startConsumer() {
  const c = buildConsumer(stack.config, silentLogger);
  consumer = c;
  await c.start((m) => handleAdMessage(deps, m));
  // The in-process queue: the HTTP side hands ids straight to the consumer (the worker thread does this over postMessage).
  if (c.inMemory && c.dispatch) {
    const dispatch = c.dispatch.bind(c);
    t.publisher.bind?.(dispatch);
    for (const r of await t.sql<{ id: string }[]>`select id from ads where state = 'pending'`) dispatch(r.id);
  }
  // The worker thread's scheduler: publishes retries when they are due.
  schedulerPublisher = c.publisher();
  scheduler = startScheduler(
    { repo: t.repo, publisher: schedulerPublisher, log: silentLogger, metrics: serviceMetrics(), owner: deps.owner, held: deps.held },
    { everyMs: 100, leaseMs: stack.config.leaseMs, holdMs: 5000, sweepAfterMs: stack.config.sweepAfterMs },
  );
}

/** Delivers `id` once more, as a duplicate or redelivered message would. */
async function redeliver(id: string) {
  if (consumer instanceof LocalConsumer) return consumer.dispatch(id);
  const pub = new AmqpPublisher({ url: AMQP_URL, queue: stack.queue, log: silentLogger }, 5000);
  await pub.publishAdSubmitted(id);
  await pub.close();
}

/** Messages still waiting (0 for the in-process queue once idle). */
async function backlog(): Promise<number> {
  return consumer instanceof LocalConsumer ? (await consumer.publisher().depths())!.work : queueDepth(stack.queue);
}

async function submit(file: string, description = `Ad for ${file}`, email = "poster@example.com"): Promise<string> {
  const res = await t.app.handle(new Request("http://localhost/ads", { method: "POST", body: adForm({ description, email, image: photo(file) }) }));
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function status(id: string) {
  const res = await t.app.handle(new Request(`http://localhost/ads/${id}`));
  return (await res.json()) as Record<string, string>;
}

const decided = (id: string) => waitFor(async () => ((await t.repo.get(id))!.state !== "pending" ? t.repo.get(id) : null));
const emailed = (id: string, n = 1) => waitFor(() => stack.mailgun.forAd(id).length >= n);

describe(`the pipeline (${MODE} backends)`, () => {
  test("status is 'in the review queue' while no worker runs", async () => {
    const id = await submit("vehicle-bus.jpg");
    expect(await status(id)).toMatchObject({ state: "pending", message: "Your ad is in the review queue" });
    await startConsumer();
    const ad = await decided(id);
    expect(ad).toMatchObject({ state: "accepted", category: "bus" });
  });

  test("a vehicle photo ends accepted with the top tag as category, one e-mail with the link, and the image served", async () => {
    const started = performance.now();
    const id = await submit("vehicle-car-rear.jpg", "Silver estate car, one owner");
    await decided(id);
    await emailed(id);
    const latency = performance.now() - started;
    const s = await status(id);
    expect(s).toMatchObject({ state: "accepted", category: "car", description: "Silver estate car, one owner", image_url: `/ads/${id}/image` });
    expect(s.decided_at).toBeTruthy();
    expect(s.email).toBeUndefined();

    const mails = stack.mailgun.forAd(id);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toBe("poster@example.com");
    expect(mails[0]!.text).toContain(`http://ads.example.test/ads/${id}`);
    expect(mails[0]!.text).toContain('“car”');

    const img = await t.app.handle(new Request(`http://localhost/ads/${id}/image`));
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await img.arrayBuffer()).equals(Buffer.from(photo("vehicle-car-rear.jpg")))).toBe(true);

    const row = await t.repo.get(id);
    expect(row!.tags!.find((x) => x.name === "vehicle")?.confidence).toBe(61.2);
    const [email] = await emailsOf(t.sql, id);
    expect(email).toMatchObject({ status: "sent", kind: "accepted", provider_id: mails[0]!.id });
    console.log(`submit → decision → e-mail latency with the doubles: ${latency.toFixed(0)} ms`);
  });

  test("a non-vehicle photo ends rejected with one e-mail, and its image is not served", async () => {
    const id = await submit("none-cat.png");
    await decided(id);
    await emailed(id);
    expect(await status(id)).toMatchObject({ state: "rejected", message: "Your ad was not approved" });
    const mails = stack.mailgun.forAd(id);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe("Your ad was not approved");
    expect((await t.app.handle(new Request(`http://localhost/ads/${id}/image`))).status).toBe(404);
  });

  test("the boundary: vehicle at 50 is accepted (category = top tag 'harbor'), at 49.99 rejected", async () => {
    const boats = await submit("vehicle-boats-harbour.jpg");
    const building = await submit("none-building.jpg");
    expect(await decided(boats)).toMatchObject({ state: "accepted", category: "harbor" });
    expect(await decided(building)).toMatchObject({ state: "rejected", category: null });
  });

  test("a redelivered or duplicated message gives no second decision and no second e-mail", async () => {
    const id = await submit("vehicle-motorcycle.png");
    // Three more copies at once, racing the first.
    await Promise.all([1, 2, 3].map(() => redeliver(id)));
    await decided(id);
    await emailed(id);
    // And once more after everything is done.
    await redeliver(id);
    await waitFor(async () => (await backlog()) === 0);
    await Bun.sleep(300);
    expect(stack.mailgun.forAd(id)).toHaveLength(1);
    const events = await eventsOf(t.sql, id);
    expect(events.filter((e) => e.to_state === "accepted")).toHaveLength(1);
    expect(await emailsOf(t.sql, id)).toHaveLength(1);
  });

  test("compressed schedule (RETRY_DELAYS 200ms,400ms,800ms; scheduler pass 100 ms): Imagga answering 429 twice: retried with backoff, then accepted; attempts recorded", async () => {
    stack.imagga.faults.failNext(2, 429, null);
    const id = await submit("vehicle-bus.jpg");
    const ad = await decided(id);
    expect(ad).toMatchObject({ state: "accepted", category: "bus", attempts: 2 });
    await emailed(id);
    expect(stack.mailgun.forAd(id)).toHaveLength(1);
  });

  test("compressed schedule: Mailgun failing once: the e-mail is retried without tagging again", async () => {
    stack.mailgun.faults.failNext(1, 503, null);
    const callsBefore = stack.imagga.calls.length;
    const id = await submit("none-fruits.jpg");
    await decided(id);
    await emailed(id);
    expect(stack.imagga.calls.length - callsBefore).toBe(1);
    const [email] = await emailsOf(t.sql, id);
    expect(email).toMatchObject({ status: "sent", attempts: 2 });
    expect(stack.mailgun.forAd(id)).toHaveLength(1);
  });

  test("compressed schedule: Imagga always failing: the ad ends failed after the retry budget, dead-lettered, others keep flowing", async () => {
    stack.imagga.faults.alwaysStatus = 500;
    const bad = await submit("vehicle-bus.jpg");
    const failed = await waitFor(async () => ((await t.repo.get(bad))!.state === "failed" ? t.repo.get(bad) : null));
    stack.imagga.faults.reset();
    expect(failed).toMatchObject({ state: "failed", attempts: stack.config.retryDelaysMs.length + 1 });
    expect(failed!.last_error).toContain("500");
    expect(await status(bad)).toMatchObject({ state: "pending" });
    if (consumer instanceof LocalConsumer) expect((await consumer.publisher().depths())!.dead).toBeGreaterThanOrEqual(1);
    else expect(await waitFor(async () => (await queueDepth(topology(stack.queue).dead)) >= 1)).toBe(true);
    const good = await submit("vehicle-car-rear.jpg");
    expect(await decided(good)).toMatchObject({ state: "accepted" });
    expect(stack.mailgun.forAd(bad)).toHaveLength(0);
  });
});
