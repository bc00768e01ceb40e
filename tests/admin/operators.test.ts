/**
 * The `operator` commands of the compiled binary, on the embedded database under a temporary
 * DATA_DIR and on PostgreSQL: add (a generated password printed once, or one from stdin), list,
 * disable, enable, reset-password; exit codes and messages for mistakes; argon2id hashes stored;
 * what the commands change takes effect at once on a running service's sessions, and the service
 * signs the operators in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { AdminAuth } from "../../src/admin/auth";
import { BINARY, ensureBinary, startBinary } from "../support/binary";
import { createTestDatabase } from "../support/stack";

const ADMIN_PASSWORD = "operators-cli-test-admin-pw";

async function cli(args: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([BINARY, "operator", ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOG_LEVEL: "warn", ...env },
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const passwordOf = (out: string) => /Password \(shown once\): (\S+)/.exec(out)?.[1];

/** Signs in to a running service; returns the status. */
async function signIn(url: string, name: string, password: string): Promise<number> {
  const res = await fetch(`${url}/admin/login`, { method: "POST", redirect: "manual", body: new URLSearchParams({ name, password }) });
  return res.status;
}

beforeAll(async () => {
  await ensureBinary();
}, 120_000);

describe("on the embedded database (DATA_DIR)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ad-service-operators-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("add, list, disable, enable, reset-password; mistakes exit non-zero with a message; the service signs them in", async () => {
    const env = { DATA_DIR: dir };
    const added = await cli(["add", "Sara", "--lang", "fa"], env);
    expect([added.code, added.err]).toEqual([0, ""]);
    expect(added.out).toContain('Added operator "Sara" (role operator, language fa).');
    const first = passwordOf(added.out)!;
    expect(first.length).toBeGreaterThanOrEqual(20);

    const viaStdin = await cli(["add", "omid", "--role=admin", "--password-stdin"], env, "omid's own long password\n");
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.out).toContain('Added operator "omid" (role admin, language en).');
    expect(viaStdin.out).not.toContain("Password");

    const mistakes = [
      { args: ["add", "SARA"], code: 1, says: 'an operator named "SARA" already exists' },
      { args: ["add", "x", "--role", "boss"], code: 2, says: "role must be one of: admin, operator" },
      { args: ["add", "x", "--lang", "de"], code: 2, says: "language must be fa or en" },
      { args: ["add", "auto"], code: 1, says: '"auto" is reserved' },
      { args: ["add", "two words"], code: 1, says: "a name is 1-40 letters or digits (then also . _ -), starting with a letter or digit" },
      { args: ["disable", "nobody"], code: 1, says: 'no operator named "nobody"' },
      { args: ["reset-password", "nobody"], code: 1, says: 'no operator named "nobody"' },
      { args: ["add"], code: 2, says: '"operator add" takes one name' },
      { args: ["promote", "sara"], code: 2, says: "unknown operator command: promote" },
      { args: ["list", "--role", "admin"], code: 2, says: 'unknown option for "operator list": --role' },
    ];
    for (const m of mistakes) {
      const r = await cli(m.args, env);
      expect([m.args.join(" "), r.code, r.err.split("\n")[0]]).toEqual([m.args.join(" "), m.code, `ad-service operator: ${m.says}`]);
      expect(r.out).toBe("");
    }
    const short = await cli(["add", "shorty", "--password-stdin"], env, "short\n");
    expect([short.code, short.err.trim()]).toEqual([1, "ad-service operator: a password must be at least 12 characters"]);

    const disabled = await cli(["disable", "sara"], env);
    expect([disabled.code, disabled.out]).toEqual([0, 'Disabled operator "Sara"; their sessions have ended.\n']);
    expect((await cli(["disable", "sara"], env)).out).toBe('Operator "Sara" was already disabled.\n');
    const list = await cli(["list"], env);
    expect(list.code).toBe(0);
    const rows = list.out.trim().split("\n").map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(["NAME", "ROLE", "LANG", "STATUS", "LAST SIGN-IN", "DISPLAY NAME"]);
    expect(rows.slice(1)).toEqual([
      ["omid", "admin", "en", "active", "never"],
      ["Sara", "operator", "fa", "disabled", "never"],
    ]);
    expect((await cli(["enable", "sara"], env)).out).toBe('Enabled operator "Sara".\n');
    const reset = await cli(["reset-password", "sara"], env);
    expect(reset.code).toBe(0);
    const second = passwordOf(reset.out)!;
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);

    // The service on the same DATA_DIR signs them in (and the bootstrap admin with only ADMIN_PASSWORD).
    const svc = await startBinary([], { DATA_DIR: dir, PORT: "0", ADMIN_PASSWORD, LOG_LEVEL: "warn" }, { timeoutMs: 60_000 });
    try {
      expect(await signIn(svc.url, "sara", first)).toBe(401);
      expect(await signIn(svc.url, "sara", second)).toBe(303);
      expect(await signIn(svc.url, "OMID", "omid's own long password")).toBe(303);
      expect(await signIn(svc.url, "", ADMIN_PASSWORD)).toBe(303);
      // While the service holds the data directory the commands say so, and change nothing.
      const busy = await cli(["list"], env);
      expect(busy.code).toBe(1);
      expect(busy.err).toContain("ad-service operator: cannot open the database");
      expect(busy.out).toBe("");
    } finally {
      await svc.stop();
    }
    const after = (await cli(["list"], env)).out;
    expect(after).toMatch(/^admin\s+admin\s+en\s+active\s+\d{4}-\d\d-\d\dT/m);
    expect(after).toMatch(/^Sara\s+operator\s+fa\s+active\s+\d{4}-\d\d-\d\dT/m);
  }, 180_000);
});

describe("on PostgreSQL (DATABASE_URL)", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;
  beforeAll(async () => {
    db = await createTestDatabase();
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  test("argon2id hashes stored; the last active admin stays; a disable or a reset ends open sessions at once", async () => {
    const env = { DATABASE_URL: db.url };
    const alice = await cli(["add", "alice", "--role", "admin"], env);
    expect(alice.code).toBe(0);
    const [row] = await sql<{ password_hash: string; role: string; lang: string }[]>`select password_hash, role, lang from operators where name = 'alice'`;
    expect(row!.password_hash).toStartWith("$argon2id$");
    expect(row!.password_hash).not.toContain(passwordOf(alice.out)!);
    expect(row).toMatchObject({ role: "admin", lang: "en" });

    // The only active admin cannot be disabled.
    const last = await cli(["disable", "alice"], env);
    expect([last.code, last.err.trim()]).toEqual([1, "ad-service operator: the last active admin cannot be disabled"]);
    expect((await cli(["add", "carol"], env)).code).toBe(0);

    // A session opened by a running copy (in-process here, same database)...
    const auth = new AdminAuth(sql, ADMIN_PASSWORD, 60_000);
    const carolPw = "carol's chosen password";
    expect((await cli(["reset-password", "carol", "--password-stdin"], env, carolPw + "\n")).code).toBe(0);
    const s = await auth.login("carol", carolPw, "192.0.2.1");
    expect(s.ok).toBe(true);
    const token = (s as { token: string }).token;
    expect((await auth.session(token))?.operator).toMatchObject({ name: "carol", role: "operator" });
    // ...ends when the command disables her,
    expect((await cli(["disable", "carol"], env)).code).toBe(0);
    expect(await auth.session(token)).toBeNull();
    expect(await auth.login("carol", carolPw, "192.0.2.2")).toMatchObject({ ok: false, reason: "bad_password" });
    // and when it resets her password.
    expect((await cli(["enable", "carol"], env)).code).toBe(0);
    const again = await auth.login("carol", carolPw, "192.0.2.3");
    expect(again.ok).toBe(true);
    expect((await cli(["reset-password", "carol"], env)).code).toBe(0);
    expect(await auth.session((again as { token: string }).token)).toBeNull();
    expect((await sql`select count(*)::int as n from admin_sessions where operator_id = (select id from operators where name = 'carol')`)[0]!.n).toBe(0);

    // The bootstrap account appeared with the first use of the service's sign-in (AdminAuth here).
    expect((await cli(["list"], env)).out).toMatch(/^admin\s+admin\s+en\s+active/m);
  }, 120_000);
});
