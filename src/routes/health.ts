import { Elysia, t } from "elysia";
import { withTimeout } from "../platform/timeout";

/**
 * A named check. It resolves when healthy (to nothing or "ok"), or to another state name to
 * report a known not-ready state; it throws when not healthy. A thrown error that carries a
 * `readiness` string (e.g. the broker's "blocked") is reported under that name, any other
 * failure as "unavailable".
 */
export type Check = () => Promise<void | string>;

/** The state a failed check reports: its error's `readiness` name, or "unavailable". */
export function readinessOf(err: unknown): string {
  const r = (err as { readiness?: unknown } | null)?.readiness;
  return typeof r === "string" && /^[a-z_]{1,40}$/.test(r) ? r : "unavailable";
}

/** Runs checks in parallel, each bounded by `timeoutMs`; each maps to "ok" or a not-ready state name. */
export async function runChecks(checks: Record<string, Check>, timeoutMs: number): Promise<Record<string, string>> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name) => {
      try {
        const state = await withTimeout(checks[name]!(), timeoutMs, () => new Error("timed out"));
        return [name, typeof state === "string" && state !== "" ? state : "ok"] as const;
      } catch (err) {
        return [name, readinessOf(err)] as const;
      }
    }),
  );
  return Object.fromEntries(results);
}

/** `/ready`'s answer; `status` is `ready` (200) or `not_ready` (503). */
const Readiness = (description: string, example: string) =>
  t.Object(
    {
      status: t.String({ examples: [example] }),
      checks: t.Record(t.String(), t.String({ description: "`ok`, `unavailable`, or a named not-ready state such as the broker's `blocked`" }), {
        examples: [{ database: "ok", broker: example === "ready" ? "ok" : "unavailable", storage: "ok" }],
      }),
    },
    { title: "Readiness", description },
  );

/**
 * `/health`: the process is alive. `/ready`: every dependency answers (503 naming the ones that do
 * not, each with its state: "unavailable", or a named one such as the broker's "blocked").
 */
export function healthRoutes(checks: Record<string, Check>, isShuttingDown: () => boolean, timeoutMs = 2000) {
  return new Elysia({ name: "health" })
    .get("/health", () => ({ status: "ok" }), {
      response: t.Object({ status: t.String({ examples: ["ok"] }) }, { description: "The process is alive (it checks no dependency)" }),
      detail: { tags: ["Operations"], summary: "Liveness", security: [] },
    })
    .get(
      "/ready",
      async ({ set }) => {
        const results = await runChecks(checks, timeoutMs);
        if (isShuttingDown()) results.shutdown = "unavailable";
        const ready = Object.values(results).every((v) => v === "ok");
        set.status = ready ? 200 : 503;
        return { status: ready ? "ready" : "not_ready", checks: results };
      },
      {
        response: {
          200: Readiness("Every dependency answers", "ready"),
          503: Readiness("A dependency does not answer (or the process is shutting down): `checks` names it", "not_ready"),
        },
        detail: {
          tags: ["Operations"],
          summary: "Readiness: database, broker, storage (and the consumer, when this process runs one)",
          security: [],
        },
      },
    );
}
