import type { Logger } from "./logger";

export interface BreakerOptions {
  /** Consecutive transient failures that open the breaker. */
  threshold: number;
  /** First wait before a probe; doubles after each failed probe up to `maxProbeMs`. */
  minProbeMs: number;
  maxProbeMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { threshold: 5, minProbeMs: 5000, maxProbeMs: 30_000 };

/**
 * A circuit breaker for one provider (the tagger, the mailer). Closed, every call goes through.
 * After `threshold` transient failures in a row it opens: calls are refused (the caller holds the
 * work without counting an attempt), except one probe at a time, once the probe wait has passed.
 * A probe that succeeds closes it (and `onClose` releases the held work); one that fails doubles
 * the wait. So an outage costs a handful of calls, however long it lasts, and the work resumes
 * within one probe wait (≤ `maxProbeMs`) of the provider's return.
 */
export class CircuitBreaker {
  private failures = 0;
  private openSince: number | null = null;
  private probeWaitMs: number;
  private nextProbeAt = 0;
  private probing = false;
  private readonly probeFailures = new WeakSet<object>();
  /** Called when the breaker closes after having been open. */
  onClose: () => void = () => {};
  /** Called on every change between open and closed. */
  onChange: (open: boolean) => void = () => {};

  constructor(
    readonly name: string,
    private readonly opts: BreakerOptions = DEFAULT_BREAKER,
    private readonly log?: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.probeWaitMs = opts.minProbeMs;
  }

  get isOpen(): boolean {
    return this.openSince !== null;
  }

  /**
   * May a call go out now? Closed: yes. Open: only as the single probe, once its wait has passed.
   * A caller that got `true` must report the call's result with `success` or `failure`.
   */
  allow(): boolean {
    if (this.openSince === null) return true;
    if (this.probing || this.now() < this.nextProbeAt) return false;
    this.probing = true;
    return true;
  }

  /** Open, no probe out, and the probe wait has passed: the scheduler releases one held item to probe with. */
  probeDue(): boolean {
    return this.openSince !== null && !this.probing && this.now() >= this.nextProbeAt;
  }

  /** This error came from a probe call (the provider is still down: not the work's fault). */
  isProbeFailure(err: unknown): boolean {
    return typeof err === "object" && err !== null && this.probeFailures.has(err);
  }

  /** How long refused work should wait before it is tried again (the next probe, at least 1 s). */
  retryInMs(): number {
    return Math.max(1000, this.nextProbeAt - this.now()) + 250;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.openSince !== null) {
      this.log?.info("provider answers again; circuit closed, held work released", { provider: this.name, open_ms: this.now() - this.openSince });
      this.openSince = null;
      this.probeWaitMs = this.opts.minProbeMs;
      this.onChange(false);
      this.onClose();
    }
  }

  /**
   * A failed call; only transient failures (the provider's trouble, not the request's) count.
   * `wasProbe`: this call was let through as the probe (calls that started before the breaker
   * opened do not end the probe).
   */
  failure(transient: boolean, wasProbe = false): void {
    if (wasProbe) this.probing = false;
    if (!transient) {
      // The provider answered (it refused this request): it is up.
      if (this.openSince !== null) this.success();
      else this.failures = 0;
      return;
    }
    this.failures++;
    if (this.openSince === null) {
      if (this.failures >= this.opts.threshold) {
        this.openSince = this.now();
        this.probeWaitMs = this.opts.minProbeMs;
        this.nextProbeAt = this.now() + this.probeWaitMs;
        this.onChange(true);
        this.log?.warn("provider keeps failing; circuit open: work is held (no attempts counted) and the provider probed", {
          provider: this.name,
          failures: this.failures,
          probe_in_ms: this.probeWaitMs,
        });
      }
      return;
    }
    if (wasProbe) {
      this.probeWaitMs = Math.min(this.opts.maxProbeMs, this.probeWaitMs * 2);
      this.nextProbeAt = this.now() + this.probeWaitMs;
      this.log?.info("probe failed; provider still down", { provider: this.name, next_probe_in_ms: this.probeWaitMs });
    }
  }

  /** Runs `call` under the breaker's accounting; throws BreakerOpen when the call is refused. */
  async run<T>(call: () => Promise<T>, isTransient: (err: unknown) => boolean): Promise<T> {
    const probe = this.openSince !== null;
    if (!this.allow()) throw new BreakerOpen(this.name, this.retryInMs());
    try {
      const out = await call();
      this.success();
      return out;
    } catch (err) {
      this.failure(isTransient(err), probe);
      if (probe && typeof err === "object" && err !== null) this.probeFailures.add(err);
      throw err;
    }
  }
}

/** A call refused because the provider's breaker is open: hold the work, count nothing. */
export class BreakerOpen extends Error {
  constructor(
    readonly provider: string,
    readonly retryInMs: number,
  ) {
    super(`${provider} circuit open`);
    this.name = "BreakerOpen";
  }
}
