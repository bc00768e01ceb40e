import { expect, test } from "bun:test";
import { createLogger } from "../../src/services/logger";

test("secrets are masked wherever they appear, including inside errors and nested fields", () => {
  const lines: string[] = [];
  const log = createLogger({ secrets: ["hunter2-canary"], write: (l) => lines.push(l) });
  log.child({ request_id: "r1" }).error("connect failed for postgres://u:hunter2-canary@h/db", {
    err: new Error("auth hunter2-canary rejected"),
    nested: { url: "x?key=hunter2-canary" },
  });
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toContain("hunter2-canary");
  const o = JSON.parse(lines[0]!);
  expect(o.level).toBe("error");
  expect(o.request_id).toBe("r1");
  expect(o.err.message).toBe("auth [redacted] rejected");
});

test("levels below the minimum are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", write: (l) => lines.push(l) });
  log.info("quiet");
  log.warn("loud");
  expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["loud"]);
});
