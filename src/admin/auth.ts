import { createHmac, timingSafeEqual } from "node:crypto";
import type { Sql } from "../database/database";
import { DEFAULT_DATABASE_TIMEOUT_MS } from "../database/database";
import { OperatorRepository, type OperatorRole } from "../database/operator-repository";
import type { Lang } from "../i18n";
import { nfc } from "../i18n/text";
import type { Logger } from "../platform/logger";
import { RateLimiter } from "../platform/rate-limit";
import { BOOTSTRAP_NAME, generatePassword as newPassword, hashPassword, MAX_PASSWORD_LENGTH } from "./operators";

/** The operator a session belongs to, as the dashboard needs them on every request. */
export interface SessionOperator {
  id: string;
  name: string;
  displayName: string | null;
  role: OperatorRole;
  lang: Lang;
}

export interface AdminSession {
  csrf: string;
  expiresAt: Date;
  operator: SessionOperator;
}

export type LoginResult =
  | { ok: true; token: string; csrf: string; expiresAt: Date; operator: SessionOperator }
  | { ok: false; reason: "bad_password" | "throttled"; retryAfterS?: number };

function randomToken(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

function sha256(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}

/** A strong password for when ADMIN_PASSWORD is unset (printed once at start). */
export function generatePassword(): string {
  return newPassword();
}

async function verify(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false; // an empty password, or a hash Bun cannot read
  }
}

/**
 * Operator authentication: a name and a password per operator (argon2id hashes in `operators`),
 * database-backed sessions (so every API copy accepts them), a CSRF token per session, throttled
 * sign-ins. Only a hash of each session token is stored, so a database leak does not hand out
 * live sessions. Each session also carries a tag, an HMAC of its token hash keyed by its
 * operator's password hash: a password reset ends every session opened before it, even one the
 * reset's own delete missed; a disabled operator's sessions are refused by the lookup itself.
 *
 * ADMIN_PASSWORD is the bootstrap account `admin` (role admin): on first use this copy makes sure
 * that account exists with that password (a new ADMIN_PASSWORD replaces the hash, which ends the
 * account's sessions). A sign-in with an empty name is a sign-in as `admin`.
 */
export class AdminAuth {
  readonly operators: OperatorRepository;
  private bootstrapP: Promise<void> | undefined;
  private dummyHashP: Promise<string> | undefined;
  private readonly perClient = new RateLimiter(5, 5);
  // Per name: guessing one operator's password from many addresses is slowed down too. Higher
  // than the per-client budget, so that one address cannot lock an operator out on its own.
  private readonly perName = new RateLimiter(10, 10);
  private readonly global = new RateLimiter(60, 20);
  private lastPurge = 0;

  constructor(
    sql: Sql,
    private readonly bootstrapPassword: string,
    private readonly ttlMs: number,
    timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
    private readonly opts: { defaultLang?: Lang; log?: Logger } = {},
  ) {
    this.operators = new OperatorRepository(sql, timeoutMs);
  }

  /** Makes sure the bootstrap account exists with ADMIN_PASSWORD (once per copy; retried after a failure). */
  ready(): Promise<void> {
    this.bootstrapP ??= this.bootstrap().catch((err) => {
      this.bootstrapP = undefined;
      throw err;
    });
    return this.bootstrapP;
  }

  private async bootstrap(): Promise<void> {
    await this.dummyHash(); // made now, so the first unknown name is not slower than the next ones
    const pw = this.bootstrapPassword;
    let admin = await this.operators.byName(BOOTSTRAP_NAME);
    if (!admin) {
      const created = await this.operators.create({ name: BOOTSTRAP_NAME, role: "admin", lang: this.opts.defaultLang ?? "en", passwordHash: await hashPassword(pw) });
      if (created) {
        this.opts.log?.info("bootstrap operator created", { operator: BOOTSTRAP_NAME });
        return;
      }
      admin = await this.operators.byName(BOOTSTRAP_NAME); // another copy created it meanwhile
      if (!admin) return;
    }
    if (!(await verify(pw, admin.password_hash))) {
      await this.operators.setPassword(admin.id, await hashPassword(pw));
      this.opts.log?.info("bootstrap operator's password set from ADMIN_PASSWORD; its sessions ended", { operator: admin.name });
    }
    if (admin.disabled_at) this.opts.log?.warn("the bootstrap operator is disabled: ADMIN_PASSWORD does not sign in", { operator: admin.name });
  }

  /** The session's tag: HMAC-SHA256 of its token hash under its operator's password hash. */
  private tag(passwordHash: string, tokenHash: string): string {
    return createHmac("sha256", passwordHash).update(tokenHash).digest("hex");
  }

  /** An argon2id hash of nothing anyone knows: an unknown name costs the same verification as a known one. */
  private dummyHash(): Promise<string> {
    this.dummyHashP ??= hashPassword(randomToken());
    return this.dummyHashP;
  }

  /**
   * Checks a name and password and opens a new session. Throttled per client first, then per
   * name; only an attempt both allow also spends the global budget, so one client hammering the
   * form cannot lock everyone else out. An unknown name, a disabled operator and a wrong password
   * are one answer, after the same argon2id verification.
   */
  async login(name: string, password: string, client: string): Promise<LoginResult> {
    const wanted = nfc(name).trim().slice(0, 60) || BOOTSTRAP_NAME;
    const wait = this.perClient.take(client) || this.perName.take(`name ${wanted.toLowerCase()}`) || this.global.take("*");
    if (wait > 0) return { ok: false, reason: "throttled", retryAfterS: wait };
    await this.ready();
    const op = await this.operators.byName(wanted);
    const usable = op && !op.disabled_at ? op : null;
    const ok = await verify(password.slice(0, MAX_PASSWORD_LENGTH), usable?.password_hash ?? (await this.dummyHash()));
    if (!ok || !usable) return { ok: false, reason: "bad_password" };
    const token = randomToken();
    const csrf = randomToken();
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const tokenHash = sha256(token);
    await this.operators.openSession({ tokenHash, csrf, ip: client, expiresAt, tag: this.tag(usable.password_hash, tokenHash), operatorId: usable.id });
    if (Date.now() - this.lastPurge > 3_600_000) {
      this.lastPurge = Date.now();
      await this.operators.purgeExpiredSessions();
    }
    return { ok: true, token, csrf, expiresAt, operator: sessionOperator(usable) };
  }

  /** The live session for a cookie token (unexpired, its operator enabled, opened under their current password), or null. */
  async session(token: string | undefined): Promise<AdminSession | null> {
    if (!token || token.length > 100) return null;
    await this.ready();
    const tokenHash = sha256(token);
    const row = await this.operators.session(tokenHash);
    if (!row || !sameToken(row.password_tag, this.tag(row.operator.password_hash, tokenHash))) return null;
    return { csrf: row.csrf_token, expiresAt: row.expires_at, operator: sessionOperator(row.operator) };
  }

  /** Ends a session. */
  async logout(token: string | undefined): Promise<void> {
    if (!token) return;
    await this.operators.deleteSession(sha256(token));
  }
}

function sessionOperator(o: { id: string; name: string; display_name: string | null; role: OperatorRole; lang: Lang }): SessionOperator {
  return { id: o.id, name: o.name, displayName: o.display_name, role: o.role, lang: o.lang };
}

/** Constant-time string comparison (for CSRF tokens). */
export function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
