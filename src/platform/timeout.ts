/**
 * The one timeout race shared by the broker adapter, the database wrapper and the readiness
 * checks: settle with `p`, or reject with the caller's own error after `ms`. The timer is
 * cleared as soon as either side wins, and a late rejection of `p` stays handled (Promise.race
 * has subscribed to it), so giving up on work never leaves an unhandled rejection behind.
 */

/** `p`, or a rejection with `onTimeout()` (built when the timer fires) if `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}
