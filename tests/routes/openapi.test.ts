/**
 * The API document (`/swagger/json`, served by the app built in-process) is complete: Redocly's
 * recommended rules find no error in it, every route that is not hidden is in it with real
 * responses, it names its server (PUBLIC_BASE_URL) and says that no operation needs
 * credentials. The contract helper (tests/support/contract.ts), which checks the API tests'
 * answers against it, is tested here too: it must refuse what the document does not allow.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestApp } from "../support/app";
import { Contract, ContractError, type OpenApiDocument } from "../support/contract";
import { startTestStack } from "../support/stack";

// The document does not depend on the backends: the embedded defaults are enough.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let t: Awaited<ReturnType<typeof buildTestApp>>;
let doc: OpenApiDocument & Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), "ad-service-openapi-"));

beforeAll(async () => {
  stack = await startTestStack({}, "embedded");
  t = await buildTestApp(stack.config);
  const res = await t.app.handle(new Request("http://localhost/swagger/json"));
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
}, 60_000);
afterAll(async () => {
  await t?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface LintProblem {
  ruleId: string;
  severity: "error" | "warn";
  message: string;
  location: Array<{ pointer?: string }>;
}

/** `redocly lint` with its recommended rules on `document`; no telemetry, no update check. */
async function redoclyLint(document: unknown, name: string): Promise<{ errors: LintProblem[]; warnings: LintProblem[] }> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(document));
  const config = join(dir, "redocly.yaml");
  writeFileSync(config, "extends:\n  - recommended\ntelemetry: off\n");
  const cli = join(import.meta.dir, "../../node_modules/@redocly/cli/bin/cli.js");
  const proc = Bun.spawn([Bun.which("node") ?? process.execPath, cli, "lint", "--format=json", `--config=${config}`, file], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", REDOCLY_SUPPRESS_NOTIFICATIONS: "true", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  let report: { totals: { errors: number; warnings: number }; problems: LintProblem[] };
  try {
    report = JSON.parse(out);
  } catch {
    throw new Error(`redocly lint printed no report (exit ${code}):\n${err.slice(-2000)}`);
  }
  const errors = report.problems.filter((p) => p.severity === "error");
  const warnings = report.problems.filter((p) => p.severity === "warn");
  // The exit code and the report agree (a lint that did not run would show here).
  expect([code === 0, report.totals.errors]).toEqual([errors.length === 0, errors.length]);
  return { errors, warnings };
}

const where = (p: LintProblem) => `${p.ruleId} at ${p.location.map((l) => l.pointer).join(", ")}: ${p.message}`;

describe("the API document", () => {
  test("redocly lint (recommended rules): no errors; the only warnings are operations that cannot answer 4xx", async () => {
    const { errors, warnings } = await redoclyLint(doc, "served");
    expect(errors.map(where)).toEqual([]);
    // /health, /ready and /metrics take no input and have no 4xx answer to document.
    expect(warnings.map(where).sort()).toEqual(
      ["health", "ready", "metrics"].map((p) => `operation-4xx-response at #/paths/~1${p}/get/responses: Operation must have at least one \`4XX\` response.`).sort(),
    );
  }, 60_000);

  test("the lint can fail: the same document without servers and security is refused", async () => {
    const broken = structuredClone(doc) as unknown as { servers?: unknown; paths: Record<string, Record<string, { security?: unknown }>> };
    delete broken.servers;
    for (const item of Object.values(broken.paths)) for (const op of Object.values(item)) delete op.security;
    const { errors } = await redoclyLint(broken, "broken");
    expect(new Set(errors.map((e) => e.ruleId))).toEqual(new Set(["no-empty-servers", "security-defined"]));
  }, 60_000);

  // createApp takes it from AppDeps.publicBaseUrl, which buildAppDeps (src/compose.ts) fills from
  // the config; without it the document would name only its own origin ("/").
  test("its server is PUBLIC_BASE_URL", () => {
    expect((doc.servers as Array<{ url: string }>).map((s) => s.url)).toEqual([stack.config.publicBaseUrl]);
  });

  test("every route that is not hidden is documented, with real responses, and needs no credentials", () => {
    const routes = t.app.routes
      .filter((r) => !(r.hooks as { detail?: { hide?: boolean } } | undefined)?.detail?.hide)
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual(routes.sort());
    expect(documented.sort()).toEqual(["get /ads", "get /ads/{id}", "get /ads/{id}/image", "get /ads/{id}/thumb", "get /health", "get /metrics", "get /ready", "post /ads"]);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item) as Array<[string, { security?: unknown; responses?: Record<string, { description: string }> }]>) {
        expect([method, path, op.security]).toEqual([method, path, []]);
        const responses = Object.entries(op.responses ?? {});
        expect([method, path, responses.some(([s]) => s.startsWith("2"))]).toEqual([method, path, true]);
        // Each answer is described (not the generator's "Response for status N").
        for (const [status, r] of responses) expect([method, path, status, /^Response for status/.test(r.description) || r.description === ""]).toEqual([method, path, status, false]);
      }
    }
  });
});

describe("the contract helper refuses what the document does not allow", () => {
  const ID = "0198f3c2-8b1e-7d4a-9c55-2f0e6a1b3c4d";
  const json = (body: unknown, status: number, headers: Record<string, string> = {}) => Response.json(body, { status, headers });
  const refuses = async (method: string, path: string, res: Response, pattern: RegExp) => {
    const c = new Contract(doc);
    const err = await c.checkResponse(method, path, res).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ContractError);
    expect(String((err as Error).message)).toMatch(pattern);
    expect(c.checked).toBe(0);
  };

  test("documented answers pass (and are counted)", async () => {
    const c = new Contract(doc);
    await c.checkResponse("POST", "/ads", json({ id: ID, state: "pending", message: `Your ad was registered with ID ${ID}` }, 201, { location: `/ads/${ID}` }));
    await c.checkResponse("GET", `/ads/${ID}`, json({ id: ID, state: "pending", message: "Your ad is in the review queue", created_at: "2026-11-29T13:47:14.912Z" }, 200));
    await c.checkResponse("GET", `/ads/${ID}/image`, new Response(new Uint8Array([0xff, 0xd8, 0xff]), { headers: { "content-type": "image/jpeg", etag: '"abc"', "cache-control": "no-cache" } }));
    await c.checkResponse("GET", `/ads/${ID}/image`, new Response(null, { status: 304, headers: { etag: 'W/"abc"', "cache-control": "no-cache" } }));
    await c.checkResponse("GET", "/metrics", new Response("# TYPE x counter\nx 1\n", { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
    expect(c.checked).toBe(5);
  });

  test("a missing field, a wrong type or value, an undocumented field (e.g. the poster's e-mail)", async () => {
    await refuses("POST", "/ads", json({ id: ID, message: "x" }, 201, { location: `/ads/${ID}` }), /must have required property 'state'/);
    await refuses("POST", "/ads", json({ id: "42", state: "pending", message: "x" }, 201, { location: `/ads/${ID}` }), /must match format "uuid"/);
    await refuses("GET", `/ads/${ID}`, json({ id: ID, state: "failed", message: "x", created_at: "2026-11-29T13:47:14.912Z" }, 200), /must be equal to one of the allowed values/);
    await refuses(
      "GET",
      `/ads/${ID}`,
      json({ id: ID, state: "pending", message: "x", created_at: "2026-11-29T13:47:14.912Z", email: "poster@example.com" }, 200),
      /must NOT have additional properties \(email\)/,
    );
    await refuses("GET", `/ads/${ID}`, json({ error: { code: "not_found" } }, 404), /must have required property 'message'/);
  });

  test("an undocumented status, path, media type or body, and a missing required header", async () => {
    await refuses("GET", `/ads/${ID}`, json({ error: { code: "x", message: "y" } }, 418), /status 418 is not documented/);
    await refuses("GET", "/nope", json({}, 200), /not in the API document/);
    await refuses("DELETE", `/ads/${ID}`, json({}, 200), /operation is not in the API document/);
    await refuses("GET", `/ads/${ID}`, new Response("<p>hi</p>", { headers: { "content-type": "text/html" } }), /Content-Type text\/html is not documented/);
    await refuses("GET", `/ads/${ID}/image`, new Response(new Uint8Array([1]), { headers: { "content-type": "image/jpeg", "cache-control": "no-cache" } }), /required header ETag is missing/);
    await refuses("GET", `/ads/${ID}/image`, new Response(null, { status: 304, headers: { etag: "abc", "cache-control": "no-cache" } }), /header ETag.*must match pattern/);
    await refuses("GET", `/ads/${ID}/image`, new Response("x", { status: 304, headers: { "content-type": "text/plain", etag: '"a"', "cache-control": "no-cache" } }), /says no body/);
    await refuses("GET", "/health", new Response("not json", { headers: { "content-type": "application/json" } }), /not the JSON/);
  });
});
