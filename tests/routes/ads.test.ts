/**
 * The HTTP API, in-process, against real PostgreSQL, RabbitMQ and Ceph RGW. Table-driven: each
 * bad request gets its status and error code, and leaves no row, object or message behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { photo } from "../support/fixtures";
import { buildTestApp } from "../support/app";
import { loadContract, type Contract } from "../support/contract";
import { adForm, queueDepth, startTestStack, type StackMode } from "../support/stack";

// PIPELINE_MODE=embedded runs the same scenarios on PGlite, files and the in-process queue.
const MODE = (process.env.PIPELINE_MODE ?? "real") as StackMode;
const dispatched: string[] = [];

let stack: Awaited<ReturnType<typeof startTestStack>>;
let t: Awaited<ReturnType<typeof buildTestApp>>;
let contract: Contract; // every API answer below is checked against the served API document

beforeAll(async () => {
  stack = await startTestStack({ MAX_IMAGE_BYTES: String(1024 * 1024) }, MODE);
  t = await buildTestApp(stack.config);
  contract = await loadContract(t.app, { outside: [/^\/swagger(\/|$)/, "/no/such/page"] });
  t.publisher.bind?.((id) => dispatched.push(id));
}, 60_000);
afterAll(async () => {
  await t.close();
  await stack.stop();
});

const handle = (req: Request) => t.app.handle(req).then((res) => contract.check(req, res));
const post = (body: FormData | string | null, headers: Record<string, string> = {}) =>
  handle(new Request("http://localhost/ads", { method: "POST", body, headers }));
const get = (path: string, headers: Record<string, string> = {}) => handle(new Request(`http://localhost${path}`, { headers }));

async function counts() {
  const [row] = await t.sql<{ n: number }[]>`select count(*)::int as n from ads`;
  return { rows: row!.n, objects: (await t.objectKeys()).length, messages: MODE === "real" ? await queueDepth(stack.queue) : dispatched.length };
}

const jpeg = photo("vehicle-car-rear.jpg");
const POSTER = "poster.secret+canary@example.com";

describe("POST /ads rejects bad input and changes nothing", () => {
  const bigJpeg = new Uint8Array(1024 * 1024 + 1);
  bigJpeg.set(jpeg.subarray(0, 1024));
  const cases: Array<{ name: string; body: () => FormData | string; headers?: Record<string, string>; status: number; code: string }> = [
    { name: "missing description", body: () => adForm({ email: POSTER, image: jpeg }), status: 422, code: "invalid_description" },
    { name: "blank description", body: () => adForm({ description: "   ", email: POSTER, image: jpeg }), status: 422, code: "invalid_description" },
    { name: "description over 5000 characters", body: () => adForm({ description: "x".repeat(5001), email: POSTER, image: jpeg }), status: 422, code: "invalid_description" },
    { name: "missing email", body: () => adForm({ description: "car", image: jpeg }), status: 422, code: "invalid_email" },
    { name: "e-mail with a header injection", body: () => adForm({ description: "car", email: "a@b.co\r\nBcc: x@y.co", image: jpeg }), status: 422, code: "invalid_email" },
    { name: "two e-mail addresses", body: () => adForm({ description: "car", email: "a@b.co, c@d.co", image: jpeg }), status: 422, code: "invalid_email" },
    { name: "missing image", body: () => adForm({ description: "car", email: POSTER }), status: 422, code: "invalid_image" },
    { name: "image sent as a text field", body: () => { const f = adForm({ description: "car", email: POSTER }); f.append("image", "not a file"); return f; }, status: 422, code: "invalid_image" },
    { name: "a script labelled image/jpeg", body: () => adForm({ description: "car", email: POSTER, image: "<script>alert(1)</script>", type: "image/jpeg", filename: "x.jpg" }), status: 415, code: "unsupported_image" },
    { name: "a PDF", body: () => adForm({ description: "car", email: POSTER, image: "%PDF-1.7\n...", type: "application/pdf", filename: "x.pdf" }), status: 415, code: "unsupported_image" },
    { name: "an image over MAX_IMAGE_BYTES", body: () => adForm({ description: "car", email: POSTER, image: bigJpeg }), status: 413, code: "image_too_large" },
    { name: "a JSON body", body: () => JSON.stringify({ description: "car", email: POSTER }), headers: { "content-type": "application/json" }, status: 400, code: "bad_request" },
    { name: "broken multipart", body: () => "--xyz\r\ngarbage", headers: { "content-type": "multipart/form-data; boundary=xyz" }, status: 400, code: "bad_request" },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await counts();
      const res = await post(c.body(), c.headers);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(c.status);
      expect(body.error.code).toBe(c.code);
      expect(JSON.stringify(body)).not.toContain("canary");
      expect(await counts()).toEqual(before);
    });
  }

  test("an announced body over the cap is refused from its Content-Length alone (413)", async () => {
    const before = await counts();
    const res = await post("x", { "content-type": "multipart/form-data; boundary=b", "content-length": String(10 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("image_too_large");
    expect(await counts()).toEqual(before);
  });
});

describe("browsers get HTML even for answers given before any route runs", () => {
  test("an oversize upload from the htmx form: a 413 fragment with the message", async () => {
    const res = await post("x", { "content-type": "multipart/form-data; boundary=b", "content-length": String(10 * 1024 * 1024), "hx-request": "true" });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("image must be at most 1048576 bytes");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
  test("an unknown URL: an HTML 404 page for a browser, JSON for an API client", async () => {
    const html = await get("/no/such/page", { accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    expect(html.status).toBe(404);
    expect(html.headers.get("content-type")).toContain("text/html");
    const json = await get("/no/such/page");
    expect(json.status).toBe(404);
    expect(((await json.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});

describe("POST /ads then GET /ads/:id", () => {
  test("201 with id, pending state, message and Location; row, object and message exist", async () => {
    const before = await counts();
    const res = await post(adForm({ description: "  Blue hatchback, 2012  ", email: POSTER, image: jpeg, filename: "../../etc/passwd.jpg" }));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; state: string; message: string };
    expect(body.state).toBe("pending");
    expect(body.message).toBe(`Your ad was registered with ID ${body.id}`);
    expect(res.headers.get("location")).toBe(`/ads/${body.id}`);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);

    const row = await t.repo.get(body.id);
    expect(row).toMatchObject({ description: "Blue hatchback, 2012", email: POSTER, image_key: `ads/${body.id}.jpg`, image_content_type: "image/jpeg" });
    expect(await t.objectKeys()).toContain(`ads/${body.id}.jpg`);
    expect(await counts()).toEqual({ rows: before.rows + 1, objects: before.objects + 1, messages: before.messages + 1 });

    const status = await get(`/ads/${body.id}`);
    expect(status.status).toBe(200);
    const s = (await status.json()) as Record<string, unknown>;
    expect(s).toMatchObject({ id: body.id, state: "pending", message: "Your ad is in the review queue" });
    expect(s.description).toBeUndefined();
    expect(JSON.stringify(s)).not.toContain("canary");
  });

  test("the image key comes from the sniffed type, not the client's name or type", async () => {
    const res = await post(adForm({ description: "Motorbike", email: POSTER, image: photo("vehicle-motorcycle.png"), filename: "evil.php", type: "text/x-php" }));
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await t.repo.get(id))!.image_key).toBe(`ads/${id}.png`);
  });

  test("unknown or malformed ids are 404 with the error shape", async () => {
    for (const id of [Bun.randomUUIDv7(), "42", "%27%20or%201%3D1"]) {
      const res = await get(`/ads/${id}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });

  test("the image of a pending ad is not served", async () => {
    const res = await post(adForm({ description: "Van", email: POSTER, image: jpeg }));
    const { id } = (await res.json()) as { id: string };
    expect((await get(`/ads/${id}/image`)).status).toBe(404);
  });
});

describe("operations", () => {
  test("/health is 200, /ready reports each dependency", async () => {
    expect((await get("/health")).status).toBe(200);
    const ready = await get("/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", broker: "ok", storage: "ok" } });
  });

  test("every response carries the security headers and a request id", async () => {
    for (const res of [await get("/health"), await get(`/ads/${Bun.randomUUIDv7()}`), await post("junk", { "content-type": "multipart/form-data; boundary=q" })]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("content-security-policy")).not.toContain("unsafe-eval");
      expect(res.headers.get("x-request-id")).toBeTruthy();
    }
  });

  test("the OpenAPI spec documents the ad routes", async () => {
    const res = await get("/swagger/json");
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/ads", "/ads/{id}", "/ads/{id}/image", "/health", "/ready"]));
    expect(spec.paths["/ads"]!.post).toBeDefined();
  });

  test("the docs page and its assets are served locally (no CDN), with a CSP that allows only 'self' scripts", async () => {
    const page = await get("/swagger");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self';");
    for (const src of html.match(/(?:src|href)="([^"]+)"/g)!.map((m) => m.split('"')[1]!)) {
      const res = await get(src);
      expect([src, res.status]).toEqual([src, 200]);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });
});

test("the API answers above were checked against the API document", () => {
  expect(contract.checked).toBeGreaterThanOrEqual(27); // all but the 8 page and docs answers
});
