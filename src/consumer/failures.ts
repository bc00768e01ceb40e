/**
 * How the worker records what went wrong: the facts of an error for the history and the
 * dashboard, its short reason for metrics, the backoff with jitter, and the fallback after which
 * held work comes back by itself.
 */
import type { ErrorFacts } from "../domain/ad";
import { describeError, DependencyError, isTransient } from "../domain/errors";

/**
 * Held work comes back by itself after this long even if nobody releases it (e.g. the process that
 * held it restarted); normally the breaker releases it when a probe succeeds.
 */
export const HELD_FALLBACK_MS = 5 * 60_000;

/** Up to +10 %: spreads retries of many ads failed by one outage, and never makes one early. */
export function withJitter(ms: number): number {
  return Math.round(ms * (1 + Math.random() * 0.1));
}

/** An e-mail send failed transiently and its retry is recorded; `attempt` is its attempt count. */
export class EmailStepError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly attempt: number,
  ) {
    super(describeError(cause));
  }
}

export function factsOf(err: unknown): ErrorFacts {
  return {
    provider: err instanceof DependencyError ? err.dependency : "internal",
    reason: reasonOf(err),
    transient: isTransient(err),
    message: describeError(err),
  };
}

export function reasonOf(err: unknown): string {
  return err instanceof DependencyError ? err.reason : "error";
}
