import { timingSafeEqual } from "node:crypto";
import type { Sql } from "./database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "./database";
import { RateLimiter } from "./rate-limit";

export interface AdminSession {
  csrf: string;
  expiresAt: Date;
}

export type LoginResult =
  | { ok: true; token: string; csrf: string; expiresAt: Date }
  | { ok: false; reason: "bad_password" | "throttled"; retryAfterS?: number };

function randomToken(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

function sha256(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}

/** A strong password for when ADMIN_PASSWORD is unset (printed once at start). */
export function generatePassword(): string {
  return randomToken(18);
}

/**
 * Operator authentication: one shared password, database-backed sessions (so every API copy
 * accepts them), a CSRF token per session, throttled logins. Only a hash of each session token
 * is stored, so a database leak does not hand out live sessions.
 */
export class AdminAuth {
  private readonly passwordHash: Buffer;
  private readonly perClient = new RateLimiter(5, 5);
  private readonly global = new RateLimiter(60, 20);
  private lastPurge = 0;

  constructor(
    private readonly sql: Sql,
    password: string,
    private readonly ttlMs: number,
    private readonly timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {
    this.passwordHash = Buffer.from(sha256(password), "hex");
  }

  /** Checks the password (constant time, throttled per client and overall) and opens a new session. */
  async login(password: string, client: string): Promise<LoginResult> {
    const wait = Math.max(this.perClient.take(client), this.global.take("*"));
    if (wait > 0) return { ok: false, reason: "throttled", retryAfterS: wait };
    const given = Buffer.from(sha256(password), "hex");
    if (!timingSafeEqual(given, this.passwordHash)) return { ok: false, reason: "bad_password" };
    const token = randomToken();
    const csrf = randomToken();
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await withDatabaseErrors(async () => {
      await this.sql`insert into admin_sessions (token_hash, csrf_token, ip, expires_at) values (${sha256(token)}, ${csrf}, ${client}, ${expiresAt})`;
      if (Date.now() - this.lastPurge > 3_600_000) {
        this.lastPurge = Date.now();
        await this.sql`delete from admin_sessions where expires_at < now()`;
      }
    }, this.timeoutMs);
    return { ok: true, token, csrf, expiresAt };
  }

  /** The live session for a cookie token, or null. */
  async session(token: string | undefined): Promise<AdminSession | null> {
    if (!token || token.length > 100) return null;
    return withDatabaseErrors(async () => {
      const [row] = await this.sql<{ csrf_token: string; expires_at: Date }[]>`
        select csrf_token, expires_at from admin_sessions where token_hash = ${sha256(token)} and expires_at > now()`;
      return row ? { csrf: row.csrf_token, expiresAt: row.expires_at } : null;
    }, this.timeoutMs);
  }

  /** Ends a session. */
  async logout(token: string | undefined): Promise<void> {
    if (!token) return;
    await withDatabaseErrors(async () => {
      await this.sql`delete from admin_sessions where token_hash = ${sha256(token)}`;
    }, this.timeoutMs);
  }
}

/** Constant-time string comparison (for CSRF tokens). */
export function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
