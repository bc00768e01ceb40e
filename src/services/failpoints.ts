/**
 * Named fault-injection points for the fault tests (FAILPOINTS="name=action,..."). Actions:
 * `kill` (SIGKILL this process: a crash with no cleanup), `crash` (an uncaught exception in
 * the calling thread), `throw` (a transient error), or `delay:<ms>`. Unset in production,
 * where every call is a no-op.
 */
import { DependencyError } from "./errors";

export type FailpointName =
  | "intake.after-commit"
  | "worker.after-download"
  | "worker.after-tagging"
  | "worker.after-decision"
  | "worker.after-email";

export const FAILPOINT_NAMES: FailpointName[] = ["intake.after-commit", "worker.after-download", "worker.after-tagging", "worker.after-decision", "worker.after-email"];

export type Failpoints = (name: FailpointName) => Promise<void>;

/** Parses the FAILPOINTS setting; throws a readable message on anything unknown. */
export function parseFailpoints(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, action] = part.split("=");
    if (!FAILPOINT_NAMES.includes(name as FailpointName)) throw new Error(`unknown failpoint ${name}`);
    if (!action || !/^(kill|crash|throw|delay:\d+)$/.test(action)) throw new Error(`failpoint ${name} needs an action: kill, crash, throw or delay:<ms>`);
    out[name!] = action;
  }
  return out;
}

/** The failpoint function for a parsed spec. */
export function failpoints(spec: Record<string, string>): Failpoints {
  if (Object.keys(spec).length === 0) return async () => {};
  return async (name) => {
    const action = spec[name];
    if (!action) return;
    if (action === "kill") {
      process.kill(process.pid, "SIGKILL");
      await new Promise(() => {});
    }
    if (action === "crash") {
      setTimeout(() => {
        throw new Error(`failpoint ${name}: crash`);
      });
      await new Promise(() => {});
    }
    if (action === "throw") throw new DependencyError("database", `failpoint ${name}`, true, "failpoint");
    if (action.startsWith("delay:")) await Bun.sleep(Number(action.slice(6)));
  };
}
