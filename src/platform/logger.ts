/** JSON-lines logger: one object per line on stdout, secrets masked wherever they appear. */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (e.g. a request id or ad id). */
  child(fields: LogFields): Logger;
  /** The same logger (level, sink, fields), masking `secrets` too (e.g. a password only known after start). */
  withSecrets(secrets: string[]): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  secrets?: string[];
  base?: LogFields;
  write?: (line: string) => void;
}

/** Builds a logger; `secrets` are replaced by "[redacted]" in every line written. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? "info"];
  const secrets = [...new Set((opts.secrets ?? []).filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  // Values are masked before serialising (JSON escapes `"`, `\` and control characters, so a
  // secret holding one would no longer match in the line); the finished line is then masked
  // again, in both the raw and the JSON-escaped form, for secrets in keys.
  const inLine = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  const mask = (text: string, list: string[]) => {
    for (const s of list) if (text.includes(s)) text = text.split(s).join("[redacted]");
    return text;
  };
  const masking = secrets.length ? (key: string, value: unknown) => {
    const v = replacer(key, value);
    return typeof v === "string" ? mask(v, secrets) : v;
  } : replacer;
  const write = opts.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[level] < min) return;
      write(mask(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, masking), inLine));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (f) => make({ ...base, ...f }),
      withSecrets: (more) => createLogger({ ...opts, secrets: [...secrets, ...more], base }),
    };
  };
  return make(opts.base ?? {});
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; cause?: unknown };
    return { name: e.name, message: e.message, code: e.code, cause: e.cause instanceof Error ? e.cause.message : undefined };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
