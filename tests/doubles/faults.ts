/** Failure injection shared by the test doubles: fail the next N requests, or add latency. */
export class FaultPlan {
  private failures: Array<{ status: number; body: unknown }> = [];
  delayMs = 0;
  /** When true, every request fails with `alwaysStatus` (a persistent outage). */
  alwaysStatus: number | null = null;

  /** The next `n` requests answer `status` with `body`. */
  failNext(n: number, status: number, body: unknown): void {
    for (let i = 0; i < n; i++) this.failures.push({ status, body });
  }

  reset(): void {
    this.failures = [];
    this.delayMs = 0;
    this.alwaysStatus = null;
  }

  /** A failure response to send now, if one is planned. */
  async next(errorBody: (status: number) => unknown): Promise<Response | null> {
    if (this.delayMs > 0) await Bun.sleep(this.delayMs);
    if (this.alwaysStatus !== null) return Response.json(errorBody(this.alwaysStatus), { status: this.alwaysStatus });
    const f = this.failures.shift();
    return f ? Response.json(f.body ?? errorBody(f.status), { status: f.status }) : null;
  }
}

/** Checks an `Authorization: Basic` header against a user and password. */
export function basicAuthOk(req: Request, user: string, pass: string): boolean {
  const h = req.headers.get("authorization") ?? "";
  if (!h.startsWith("Basic ")) return false;
  return Buffer.from(h.slice(6), "base64").toString("utf8") === `${user}:${pass}`;
}
