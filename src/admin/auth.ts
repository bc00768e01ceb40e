import { createHmac, scrypt, timingSafeEqual } from "node:crypto";
import type { Sql } from "../database/database";
import { DEFAULT_DATABASE_TIMEOUT_MS, withDatabaseErrors } from "../database/database";
import { RateLimiter } from "../platform/rate-limit";

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

// The key that binds sessions to the password: scrypt, so that the tags in a leaked database are
// as slow to test password guesses against as a password hash would be.
const TAG_SALT = "ad-service admin session tag v1";
const SCRYPT = { N: 16384, r: 8, p: 1 };

function deriveTagKey(password: string): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, TAG_SALT, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * Operator authentication: one shared password, database-backed sessions (so every API copy
 * accepts them), a CSRF token per session, throttled logins. Only a hash of each session token
 * is stored, so a database leak does not hand out live sessions. Each session also carries a tag
 * derived from the password it was opened with: a copy running with another ADMIN_PASSWORD
 * accepts none of them (changing the password ends every session).
 */
export class AdminAuth {
  private readonly passwordHash: Buffer;
  private readonly password: string;
  private tagKeyP: Promise<Buffer> | undefined;
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
    this.password = password;
  }

  /** The session's password tag: HMAC-SHA256 of its token hash under the password-derived key. */
  private async tag(tokenHash: string): Promise<string> {
    this.tagKeyP ??= deriveTagKey(this.password).catch((err) => {
      this.tagKeyP = undefined; // try again next time rather than refuse every session for good
      throw err;
    });
    return createHmac("sha256", await this.tagKeyP).update(tokenHash).digest("hex");
  }

  /**
   * Checks the password (constant time) and opens a new session. Throttled per client first; only
   * an attempt its client's budget allows also spends the global budget, so one client hammering
   * the form cannot lock everyone else out.
   */
  async login(password: string, client: string): Promise<LoginResult> {
    const wait = this.perClient.take(client) || this.global.take("*");
    if (wait > 0) return { ok: false, reason: "throttled", retryAfterS: wait };
    const given = Buffer.from(sha256(password), "hex");
    if (!timingSafeEqual(given, this.passwordHash)) return { ok: false, reason: "bad_password" };
    const token = randomToken();
    const csrf = randomToken();
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const tokenHash = sha256(token);
    const tag = await this.tag(tokenHash);
    await withDatabaseErrors(async () => {
      await this.sql`insert into admin_sessions (token_hash, csrf_token, ip, expires_at, password_tag) values (${tokenHash}, ${csrf}, ${client}, ${expiresAt}, ${tag})`;
      if (Date.now() - this.lastPurge > 3_600_000) {
        this.lastPurge = Date.now();
        await this.sql`delete from admin_sessions where expires_at < now()`;
      }
    }, this.timeoutMs);
    return { ok: true, token, csrf, expiresAt };
  }

  /** The live session for a cookie token (unexpired, and opened with the current password), or null. */
  async session(token: string | undefined): Promise<AdminSession | null> {
    if (!token || token.length > 100) return null;
    const tokenHash = sha256(token);
    const row = await withDatabaseErrors(async () => {
      const [r] = await this.sql<{ csrf_token: string; expires_at: Date; password_tag: string | null }[]>`
        select csrf_token, expires_at, password_tag from admin_sessions where token_hash = ${tokenHash} and expires_at > now()`;
      return r;
    }, this.timeoutMs);
    if (!row || !sameToken(row.password_tag, await this.tag(tokenHash))) return null;
    return { csrf: row.csrf_token, expiresAt: row.expires_at };
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
