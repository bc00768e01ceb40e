import { Elysia, t } from "elysia";

/** A named check: resolves when healthy, throws (with a reason) when not. */
export type Check = () => Promise<void>;

/** Runs checks in parallel, each bounded by `timeoutMs`. */
export async function runChecks(checks: Record<string, Check>, timeoutMs: number) {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          checks[name]!(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
          }),
        ]);
        return [name, "ok"] as const;
      } catch (err) {
        return [name, "unavailable"] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(results) as Record<string, "ok" | "unavailable">;
}

/** `/health`: the process is alive. `/ready`: every dependency answers (503 naming the ones that do not). */
export function healthRoutes(checks: Record<string, Check>, isShuttingDown: () => boolean, timeoutMs = 2000) {
  return new Elysia({ name: "health" })
    .get("/health", () => ({ status: "ok" }), {
      response: t.Object({ status: t.String() }),
      detail: { tags: ["Operations"], summary: "Liveness" },
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
        response: { 200: t.Object({ status: t.String(), checks: t.Record(t.String(), t.String()) }), 503: t.Any() },
        detail: { tags: ["Operations"], summary: "Readiness: database, broker, storage (and the consumer, when this process runs one)" },
      },
    );
}
