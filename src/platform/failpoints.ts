/**
 * Named fault-injection points for the fault tests (FAILPOINTS="name=action,..."). Actions:
 * `kill` (SIGKILL this process: a crash with no cleanup), `crash` (an uncaught exception in
 * the calling thread), `throw` (a transient error), or `delay:<ms>`. Unset in production,
 * where every call is a no-op.
 *
 * An action may be restricted to one subject with `@<marker>`: `worker.after-download=kill@POISON`
 * fires only when the call's subject (the worker passes the ad's description) contains `POISON`
 * (case-sensitive); calls with another subject, or none, pass. That makes a "poison job": one ad
 * that crashes every process that picks it up, while the others flow. One action per name.
 */
import { DependencyError } from "../domain/errors";

export type FailpointName =
  | "intake.after-commit"
  | "worker.after-download"
  | "worker.before-tagging"
  | "worker.after-tagging"
  | "worker.after-decision"
  | "worker.after-email";

export const FAILPOINT_NAMES: FailpointName[] = [
  "intake.after-commit",
  "worker.after-download",
  "worker.before-tagging",
  "worker.after-tagging",
  "worker.after-decision",
  "worker.after-email",
];

/** Fires the action configured for `name`, if any (and if its marker, when it has one, is in `subject`). */
export type Failpoints = (name: FailpointName, subject?: string) => Promise<void>;

const ACTION = /^(kill|crash|throw|delay:\d+)(?:@([^\s@]+))?$/;

/** Parses the FAILPOINTS setting; throws a readable message on anything unknown. */
export function parseFailpoints(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, action, ...rest] = part.split("=");
    if (!FAILPOINT_NAMES.includes(name as FailpointName)) throw new Error(`unknown failpoint ${name}`);
    if (!action || rest.length > 0 || !ACTION.test(action))
      throw new Error(`failpoint ${name} needs an action: kill, crash, throw or delay:<ms>, optionally followed by @<marker>`);
    if (out[name!] !== undefined) throw new Error(`failpoint ${name} is given twice`);
    out[name!] = action;
  }
  return out;
}

/** The failpoint function for a parsed spec. */
export function failpoints(spec: Record<string, string>): Failpoints {
  const actions = new Map<string, { action: string; marker: string | null }>();
  for (const [name, value] of Object.entries(spec)) {
    const m = ACTION.exec(value);
    if (!m) throw new Error(`failpoint ${name}: invalid action`);
    actions.set(name, { action: m[1]!, marker: m[2] ?? null });
  }
  if (actions.size === 0) return async () => {};
  return async (name, subject) => {
    const entry = actions.get(name);
    if (!entry) return;
    if (entry.marker !== null && !(subject ?? "").includes(entry.marker)) return;
    const { action } = entry;
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
