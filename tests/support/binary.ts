/** Runs the compiled ./ad-service binary as a child process and reads its JSON-lines log. */
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const BINARY = process.env.AD_SERVICE_BINARY ?? join(ROOT, "ad-service");

/** Builds the binary unless one exists (the test script always builds it fresh first). */
export async function ensureBinary(): Promise<string> {
  if (!existsSync(BINARY)) {
    const p = Bun.spawn(["bun", "run", "build"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new Error("bun run build failed");
  }
  return BINARY;
}

export interface Running {
  proc: ReturnType<typeof Bun.spawn>;
  port: number;
  url: string;
  output: () => string;
  lines: () => Array<Record<string, unknown>>;
  stop: (signal?: NodeJS.Signals) => Promise<number>;
}

/**
 * Starts the binary with exactly `env` (plus PATH), in `cwd`, and waits for its "started" line.
 * Resolves with the port it listens on.
 */
export async function startBinary(args: string[], env: Record<string, string>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Running> {
  const bin = await ensureBinary();
  let out = "";
  const proc = Bun.spawn([bin, ...args], { cwd: opts.cwd ?? ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  const lines = () => parseLogLines(out);
  const end = Date.now() + (opts.timeoutMs ?? 20_000);
  // The banner on stderr is printed at every log level: "... listening on port N ...".
  let port = 0;
  while (!port && Date.now() < end && proc.exitCode === null) {
    port = Number(/listening on port (\d+)/.exec(out)?.[1] ?? 0);
    if (!port) await Bun.sleep(20);
  }
  if (!port) {
    proc.kill("SIGKILL");
    throw new Error(`binary did not start (exit ${proc.exitCode}):\n${out}`);
  }
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    lines,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

/** The JSON log lines in a process's output (other lines, e.g. the banner, are skipped). */
export function parseLogLines(out: string): Array<Record<string, unknown>> {
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}
