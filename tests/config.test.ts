import { describe, expect, test } from "bun:test";
import { backends, ConfigError, loadConfig, parseDurationMs, secretsOf } from "../src/config";

const minimal = {
  DATABASE_URL: "postgres://app:db-secret-pw@db.internal:5432/ads",
  AMQP_URL: "amqp://u:amqp-secret-pw@mq.internal:5672",
  S3_ENDPOINT: "https://s3.example.com",
  S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
  S3_SECRET_ACCESS_KEY: "s3-secret-value",
  IMAGGA_API_KEY: "imagga-key",
  IMAGGA_API_SECRET: "imagga-secret",
  MAILGUN_API_KEY: "mailgun-key-value",
  MAILGUN_DOMAIN: "mg.example.com",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("loadConfig", () => {
  test("defaults from the issue", () => {
    const c = loadConfig(minimal);
    expect(c.port).toBe(3000);
    expect(c.amqpQueue).toBe("ads");
    expect(c.s3!.region).toBe("us-east-1");
    expect(c.s3!.forcePathStyle).toBe(true);
    expect(c.imagga!.apiUrl).toBe("https://api.imagga.com");
    expect(c.mailgun!.apiUrl).toBe("https://api.mailgun.net");
    expect(c.vehicleTag).toBe("vehicle");
    expect(c.vehicleMinConfidence).toBe(50);
    expect(c.workerConcurrency).toBe(8);
    expect(c.databasePoolSize).toBe(10);
    expect(c.databaseTimeoutMs).toBe(10_000);
    expect(c.maxImageBytes).toBe(10 * 1024 * 1024);
    expect(c.mailFrom).toBe("ad-service <noreply@mg.example.com>");
    expect(c.publicBaseUrl).toBe("http://localhost:3000");
    expect(c.retryDelaysMs).toEqual([5000, 30000, 120000, 600000, 1800000]);
  });

  test("no configuration at all is valid: every system gets its embedded default", () => {
    const c = loadConfig({});
    expect([c.databaseUrl, c.amqpUrl, c.s3, c.imagga, c.mailgun]).toEqual([null, null, null, null, null]);
    expect(c.dataDir).toBe("./data");
    expect(backends(c)).toEqual({ database: "embedded PostgreSQL (PGlite)", storage: "files", queue: "in-process", tagger: "offline detector", mail: "outbox" });
    expect(backends(loadConfig(minimal))).toEqual({ database: "PostgreSQL", storage: "S3", queue: "RabbitMQ", tagger: "Imagga", mail: "Mailgun" });
  });

  test("a half-configured system is an error, not a silent fallback to the embedded default", () => {
    expect(problems({ S3_ENDPOINT: "https://s3.example.com" })).toEqual(["S3_ACCESS_KEY_ID is required when S3_ENDPOINT is set", "S3_SECRET_ACCESS_KEY is required when S3_ENDPOINT is set"]);
    expect(problems({ IMAGGA_API_SECRET: "x" })).toEqual(["IMAGGA_API_KEY is required when IMAGGA_API_SECRET is set"]);
    expect(problems({ MAILGUN_API_KEY: "k" })).toEqual(["MAILGUN_DOMAIN is required when MAILGUN_API_KEY is set"]);
  });

  test("rejects malformed values with a clear message", () => {
    const p = problems({ ...minimal, PORT: "http", WORKER_CONCURRENCY: "0", DATABASE_POOL_SIZE: "none", VEHICLE_MIN_CONFIDENCE: "101", S3_FORCE_PATH_STYLE: "maybe", S3_ENDPOINT: "not a url", RETRY_DELAYS: "5s,soon", AMQP_QUEUE: "a b" });
    expect(p).toEqual(
      expect.arrayContaining([
        "PORT must be an integer from 0 to 65535",
        "WORKER_CONCURRENCY must be an integer from 1 to 1000",
        "DATABASE_POOL_SIZE must be an integer from 1 to 1000",
        "VEHICLE_MIN_CONFIDENCE must be a number from 0 to 100",
        "S3_FORCE_PATH_STYLE must be true or false",
        "S3_ENDPOINT must be an absolute URL",
        "RETRY_DELAYS must be a comma-separated list of at most 20 durations, e.g. 5s,30s,2m",
        "AMQP_QUEUE may only hold letters, digits and _ . : -",
      ]),
    );
  });

  test("durations that must be positive refuse 0 with a clear message", () => {
    const zero = { DATABASE_TIMEOUT: "0", SWEEP_AFTER: "0s", REQUEST_TIMEOUT: "0ms", PUBLISH_TIMEOUT: "0", SHUTDOWN_TIMEOUT_MS: "0", ADMIN_SESSION_TTL: "0h" };
    expect(problems({ ...minimal, ...zero }).sort()).toEqual(
      Object.keys(zero)
        .map((name) => `${name} must be greater than 0 (a duration such as 500ms, 5s or 2m)`)
        .sort(),
    );
    // Under a millisecond rounds to 0: refused as well.
    expect(problems({ ...minimal, REQUEST_TIMEOUT: "0.2ms" })).toEqual(["REQUEST_TIMEOUT must be greater than 0 (a duration such as 500ms, 5s or 2m)"]);
    // The smallest positive values are accepted.
    const c = loadConfig({ ...minimal, DATABASE_TIMEOUT: "1", SWEEP_AFTER: "1ms", REQUEST_TIMEOUT: "1ms", PUBLISH_TIMEOUT: "1ms", SHUTDOWN_TIMEOUT_MS: "1", ADMIN_SESSION_TTL: "1s" });
    expect([c.databaseTimeoutMs, c.sweepAfterMs, c.requestTimeoutMs, c.publishTimeoutMs, c.shutdownTimeoutMs, c.adminSessionTtlMs]).toEqual([1, 1, 1, 1, 1, 1000]);
  });

  test("timer durations beyond what a timer can wait (2^31-1 ms, ~24.8 days) are refused", () => {
    // setTimeout fires at once for a longer delay, which would turn a long timeout into none.
    expect(problems({ ...minimal, REQUEST_TIMEOUT: "600h" })).toEqual(["REQUEST_TIMEOUT must be at most 596h (2147483647ms)"]);
    expect(problems({ ...minimal, SHUTDOWN_TIMEOUT_MS: "2147483648" })).toEqual(["SHUTDOWN_TIMEOUT_MS must be at most 596h (2147483647ms)"]);
    // A session lifetime is compared with the clock, not waited for: 90 days is fine.
    expect(loadConfig({ ...minimal, ADMIN_SESSION_TTL: "2160h" }).adminSessionTtlMs).toBe(2160 * 3_600_000);
  });

  test("problem messages never contain the values", () => {
    const p = problems({ ...minimal, S3_ENDPOINT: "s3-secret-value" }).join("\n");
    expect(p).not.toContain("s3-secret-value");
  });

  test("overrides are honoured and trailing slashes dropped", () => {
    const c = loadConfig({ ...minimal, PORT: "8080", PUBLIC_BASE_URL: "https://ads.example.com/", VEHICLE_MIN_CONFIDENCE: "62.5", S3_FORCE_PATH_STYLE: "false", VEHICLE_TAG: "Vehicle" });
    expect([c.port, c.publicBaseUrl, c.vehicleMinConfidence, c.s3!.forcePathStyle, c.vehicleTag]).toEqual([8080, "https://ads.example.com", 62.5, false, "vehicle"]);
  });

  test("secretsOf lists passwords inside URLs and the API keys", () => {
    const s = secretsOf(loadConfig(minimal));
    expect(s).toEqual(expect.arrayContaining(["db-secret-pw", "amqp-secret-pw", "s3-secret-value", "imagga-secret", "mailgun-key-value"]));
  });
});

test("parseDurationMs", () => {
  expect(parseDurationMs("250ms")).toBe(250);
  expect(parseDurationMs("5s")).toBe(5000);
  expect(parseDurationMs("2m")).toBe(120000);
  expect(parseDurationMs("1.5h")).toBe(5400000);
  expect(parseDurationMs("1500")).toBe(1500);
  expect(parseDurationMs("soon")).toBeUndefined();
});

test("the offline tagger's own threshold is the default when Imagga is not configured", async () => {
  const { OFFLINE_MIN_CONFIDENCE } = await import("../src/tagger/offline");
  expect(loadConfig({}).vehicleMinConfidence).toBe(OFFLINE_MIN_CONFIDENCE);
  expect(loadConfig({ VEHICLE_MIN_CONFIDENCE: "40" }).vehicleMinConfidence).toBe(40);
  expect(loadConfig({ IMAGGA_API_KEY: "k", IMAGGA_API_SECRET: "s" }).vehicleMinConfidence).toBe(50);
});
