/**
 * The team of operators: names, roles, passwords (argon2id), and the changes an admin (on the
 * dashboard) or the machine's owner (the `operator` CLI) makes to it. The SQL is in
 * src/database/operator-repository.ts; sign-in and sessions in ./auth.ts.
 */
import type { Lang } from "../i18n";
import { isLang } from "../i18n";
import { nfc } from "../i18n/text";
import type { Logger } from "../platform/logger";
import { OPERATOR_ROLES, type OperatorInfo, type OperatorRepository, type OperatorRole } from "../database/operator-repository";

/** The bootstrap account ADMIN_PASSWORD signs in as (also when the sign-in form's name is empty). */
export const BOOTSTRAP_NAME = "admin";

/**
 * Names that history entries already use for someone other than an operator (the poster, the
 * automatic rule, the worker; "operator" is the actor of entries from before there were
 * accounts): no operator may take one, so a history line never names the wrong one.
 */
export const RESERVED_NAMES = ["auto", "poster", "worker", "system", "operator"] as const;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;

export type OperatorProblem = "invalid_name" | "reserved_name" | "duplicate" | "unknown" | "last_admin" | "bad_role" | "bad_lang" | "weak_password" | "self";

/** A change to the team that cannot be made; `problem` picks the dashboard's message. */
export class OperatorError extends Error {
  constructor(
    readonly problem: OperatorProblem,
    message: string,
  ) {
    super(message);
    this.name = "OperatorError";
  }
}

// Letters and digits of any script, then also . _ - ; 1-40 characters.
const NAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,39}$/u;

/** A sign-in name as typed: NFC, trimmed; checked for shape and reserved words. */
export function validateName(raw: unknown): string {
  const name = nfc(typeof raw === "string" ? raw : "").trim();
  if (!NAME.test(name)) throw new OperatorError("invalid_name", "a name is 1-40 letters or digits (then also . _ -), starting with a letter or digit");
  if ((RESERVED_NAMES as readonly string[]).includes(name.toLowerCase())) throw new OperatorError("reserved_name", `"${name}" is reserved`);
  return name;
}

/** The name shown beside the sign-in name (optional): one line, at most 80 characters. */
export function validateDisplayName(raw: unknown): string | null {
  // Control characters and bidi overrides out (a name must not reorder the text around it).
  const v = nfc(typeof raw === "string" ? raw : "").replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, "").trim();
  return v ? v.slice(0, 80) : null;
}

export function parseRole(raw: unknown): OperatorRole {
  if (!(OPERATOR_ROLES as readonly unknown[]).includes(raw)) throw new OperatorError("bad_role", `role must be one of: ${OPERATOR_ROLES.join(", ")}`);
  return raw as OperatorRole;
}

export function parseOperatorLang(raw: unknown): Lang {
  if (!isLang(raw)) throw new OperatorError("bad_lang", "language must be fa or en");
  return raw;
}

/** Checks a password chosen by a person (generated ones always pass). */
export function validatePassword(pw: string): string {
  if (pw.length < MIN_PASSWORD_LENGTH) throw new OperatorError("weak_password", `a password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (pw.length > MAX_PASSWORD_LENGTH) throw new OperatorError("weak_password", `a password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  return pw;
}

/** A strong password (144 random bits, URL-safe), shown to a person once. */
export function generatePassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
}

/** The stored form of a password: argon2id (Bun's defaults: 64 MiB, 2 passes), "$argon2id$…". */
export function hashPassword(pw: string): Promise<string> {
  return Bun.password.hash(pw, { algorithm: "argon2id" });
}

/** The changes to the team, shared by the dashboard's operators page and the CLI. */
export class Operators {
  constructor(
    readonly repo: OperatorRepository,
    private readonly log?: Logger,
  ) {}

  /** Adds an operator; returns them and their password (generated unless given), to show once. */
  async add(o: { name: unknown; role?: unknown; lang: unknown; displayName?: unknown; password?: string }, by: string): Promise<{ operator: OperatorInfo; password: string }> {
    const name = validateName(o.name);
    const role = o.role === undefined ? "operator" : parseRole(o.role);
    const lang = parseOperatorLang(o.lang);
    const password = o.password === undefined ? generatePassword() : validatePassword(o.password);
    const operator = await this.repo.create({ name, role, lang, displayName: validateDisplayName(o.displayName), passwordHash: await hashPassword(password) });
    if (!operator) throw new OperatorError("duplicate", `an operator named "${name}" already exists`);
    this.log?.info("operator added", { operator: operator.name, role, by });
    return { operator, password };
  }

  /** The operator with this name (any case), or an OperatorError. */
  async find(name: string): Promise<OperatorInfo & { password_hash: string }> {
    const o = await this.repo.byName(nfc(name).trim());
    if (!o) throw new OperatorError("unknown", `no operator named "${name}"`);
    return o;
  }

  async get(id: string): Promise<OperatorInfo> {
    const o = await this.repo.byId(id);
    if (!o) throw new OperatorError("unknown", "no such operator");
    return o;
  }

  /** A new password (generated unless given); the operator's sessions end at once. */
  async resetPassword(o: OperatorInfo, by: string, password?: string): Promise<string> {
    const pw = password === undefined ? generatePassword() : validatePassword(password);
    if (!(await this.repo.setPassword(o.id, await hashPassword(pw)))) throw new OperatorError("unknown", "no such operator");
    this.log?.info("operator password reset", { operator: o.name, by });
    return pw;
  }

  /** Disables (their sessions end at once) or enables an operator; false when it already was so. */
  async setDisabled(o: OperatorInfo, disabled: boolean, by: string): Promise<boolean> {
    const outcome = await this.repo.setDisabled(o.id, disabled);
    this.check(outcome, "the last active admin cannot be disabled");
    if (outcome === "done") this.log?.info(disabled ? "operator disabled" : "operator enabled", { operator: o.name, by });
    return outcome === "done";
  }

  /** Changes an operator's role; false when it already was that. */
  async setRole(o: OperatorInfo, role: unknown, by: string): Promise<boolean> {
    const r = parseRole(role);
    const outcome = await this.repo.setRole(o.id, r);
    this.check(outcome, "the last active admin must stay an admin");
    if (outcome === "done") this.log?.info("operator role changed", { operator: o.name, role: r, by });
    return outcome === "done";
  }

  private check(outcome: string, lastAdmin: string): void {
    if (outcome === "unknown") throw new OperatorError("unknown", "no such operator");
    if (outcome === "last_admin") throw new OperatorError("last_admin", lastAdmin);
  }
}
