import { expect, test } from "bun:test";
import { createLogger } from "../../src/platform/logger";

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

test("a secret with quotes and backslashes is masked in its JSON-escaped form too", () => {
  const secret = 'pa"ss\\word-canary';
  const lines: string[] = [];
  const log = createLogger({ secrets: [secret], write: (l) => lines.push(l) });
  log.error(`login with ${secret} failed`, {
    err: new Error(`server said: password ${secret} is wrong`),
    nested: { dsn: `postgres://u:${secret}@h/db`, list: [secret] },
    [secret]: "as a key",
  });
  log.child({ password: secret }).warn("child");
  expect(lines).toHaveLength(2);
  const escaped = JSON.stringify(secret).slice(1, -1); // pa\"ss\\word-canary
  for (const line of lines) {
    expect(line).not.toContain(secret);
    expect(line).not.toContain(escaped);
    expect(line).not.toContain("ss\\\\word"); // any tail of the escaped form
  }
  const o = JSON.parse(lines[0]!);
  expect(o.msg).toBe("login with [redacted] failed");
  expect(o.err.message).toBe("server said: password [redacted] is wrong");
  expect(o.nested).toEqual({ dsn: "postgres://u:[redacted]@h/db", list: ["[redacted]"] });
  expect(JSON.stringify(o)).not.toContain("word-canary");
  expect(JSON.parse(lines[1]!).password).toBe("[redacted]");
});
