/**
 * The server secret behind posters' private links and the one-way hash of their addresses.
 *
 * A manage link is `/manage/<token>`: the ad's id and an HMAC-SHA256 of it under the secret,
 * both base64url — unguessable, bound to one ad, checked in constant time. Rotating the secret
 * (MANAGE_LINK_SECRET, or the file DATA_DIR/manage-link.secret it is generated into when unset)
 * invalidates every link sent before. A wrong token is indistinguishable from an unknown ad.
 *
 * The poster hash is an HMAC of the lower-cased address under a key derived from the same secret:
 * it tells "the same poster" apart without keeping the address (retention replaces the address
 * by it), and cannot be reversed by hashing a list of likely addresses without the secret.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MAC_BYTES = 16;

export class PosterKeys {
  private readonly linkKey: Buffer;
  private readonly posterKey: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error("the manage-link secret must be at least 32 characters");
    this.linkKey = createHmac("sha256", secret).update("manage-link").digest();
    this.posterKey = createHmac("sha256", secret).update("poster-address").digest();
  }

  /** The token of an ad's manage link. */
  manageToken(adId: string): string {
    const id = Buffer.from(adId.replace(/-/g, ""), "hex");
    return `${id.toString("base64url")}${this.mac(id).toString("base64url")}`;
  }

  /** The ad id a token is for, or null when the token is not one of ours (wrong, altered, old secret). */
  adIdOf(token: string): string | null {
    if (!/^[A-Za-z0-9_-]{44}$/.test(token)) return null;
    const id = Buffer.from(token.slice(0, 22), "base64url");
    const mac = Buffer.from(token.slice(22), "base64url");
    if (id.length !== 16 || mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(id))) return null;
    const hex = id.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** The full URL of an ad's manage page. */
  manageUrl(publicBaseUrl: string, adId: string): string {
    return `${publicBaseUrl}/manage/${this.manageToken(adId)}`;
  }

  /**
   * The CSRF token of a manage page's forms: derived from the link's token, so it needs no
   * session, and a page from another site cannot know it.
   */
  formToken(linkToken: string): string {
    return createHmac("sha256", this.linkKey).update(`form:${linkToken}`).digest("base64url").slice(0, 32);
  }

  /** Whether a form carried the right CSRF token for this link (constant time). */
  checkFormToken(linkToken: string, given: unknown): boolean {
    if (typeof given !== "string" || given.length !== 32) return false;
    return timingSafeEqual(Buffer.from(given), Buffer.from(this.formToken(linkToken)));
  }

  /** The one-way hash standing for a poster's address ("ph1:" + 64 hex). */
  posterHash(email: string): string {
    return `ph1:${createHmac("sha256", this.posterKey).update(email.trim().toLowerCase()).digest("hex")}`;
  }

  private mac(id: Buffer): Buffer {
    return createHmac("sha256", this.linkKey).update(id).digest().subarray(0, MAC_BYTES);
  }
}

/**
 * The secret: MANAGE_LINK_SECRET when set; else the one kept in DATA_DIR/manage-link.secret,
 * generated (32 random bytes, file mode 0600) on first use. Several copies of the service must
 * share it: set MANAGE_LINK_SECRET for them.
 */
export function loadPosterKeys(opts: { secret: string | null; dataDir: string }): PosterKeys {
  if (opts.secret) return new PosterKeys(opts.secret);
  const file = join(opts.dataDir, "manage-link.secret");
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true });
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    try {
      writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // another thread or copy wrote it first
    }
  }
  chmodSync(file, 0o600);
  return new PosterKeys(readFileSync(file, "utf8").trim());
}
