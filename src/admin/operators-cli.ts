/**
 * `ad-service operator …`: the team of operators from the command line, on the configured
 * database (DATABASE_URL, or the embedded one under DATA_DIR: stop the service first, it holds
 * the data directory). Each command applies the migrations, does one thing, and exits: 0 when
 * done, 1 when the change cannot be made (unknown or duplicate name, the last admin), 2 for a
 * usage error (unknown command or option, bad role or language).
 */
import type { Config } from "../config";
import { OperatorRepository, type OperatorInfo } from "../database/operator-repository";
import type { Logger } from "../platform/logger";
import { StartError, withMigratedDatabase } from "../service";
import { OperatorError, Operators, parseOperatorLang, parseRole } from "./operators";

export const OPERATOR_HELP = `Usage: ad-service operator <command>

Commands:
  add <name> [--role admin|operator] [--lang fa|en] [--display-name <text>] [--password-stdin]
                            add an operator (role operator, DEFAULT_LANGUAGE unless given); prints
                            a generated password once, or takes the first line of stdin
  list                      every operator: name, role, language, status, last sign-in
  disable <name>            refuse their sign-in; their open sessions end at once
  enable <name>             let a disabled operator sign in again
  reset-password <name> [--password-stdin]
                            a new password (printed once, or from stdin); their sessions end

The bootstrap operator "admin" is ADMIN_PASSWORD's account, set at every start of the service.
`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** The whole of standard input (for --password-stdin). */
  stdin: () => Promise<string>;
}

const defaultIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  stdin: () => Bun.stdin.text(),
};

class UsageError extends Error {}

interface Parsed {
  command: string;
  name?: string;
  role?: string;
  lang?: string;
  displayName?: string;
  passwordStdin: boolean;
}

const COMMANDS: Record<string, { name: boolean; options: string[] }> = {
  add: { name: true, options: ["--role", "--lang", "--display-name", "--password-stdin"] },
  list: { name: false, options: [] },
  disable: { name: true, options: [] },
  enable: { name: true, options: [] },
  "reset-password": { name: true, options: ["--password-stdin"] },
};

function parse(args: string[]): Parsed {
  const [command, ...rest] = args;
  const spec = command ? COMMANDS[command] : undefined;
  if (!command || !spec) throw new UsageError(command ? `unknown operator command: ${command}` : "which operator command?");
  const p: Parsed = { command, passwordStdin: false };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!spec.options.includes(flag)) throw new UsageError(`unknown option for "operator ${command}": ${flag}`);
    if (flag === "--password-stdin") {
      p.passwordStdin = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === "--role") p.role = value;
    else if (flag === "--lang") p.lang = value;
    else p.displayName = value;
  }
  if (spec.name && positional.length !== 1) throw new UsageError(`"operator ${command}" takes one name`);
  if (!spec.name && positional.length) throw new UsageError(`"operator ${command}" takes no name`);
  p.name = positional[0];
  // Checked before the database is opened: a typo costs nothing.
  if (p.role !== undefined) parseRole(p.role);
  if (p.lang !== undefined) parseOperatorLang(p.lang);
  return p;
}

/** The first line of standard input, as a password. */
async function passwordFromStdin(io: CliIo): Promise<string> {
  const line = (await io.stdin()).split(/\r?\n/)[0] ?? "";
  if (!line) throw new UsageError("--password-stdin: standard input is empty");
  return line;
}

function table(rows: OperatorInfo[]): string {
  const head = ["NAME", "ROLE", "LANG", "STATUS", "LAST SIGN-IN", "DISPLAY NAME"];
  const body = rows.map((o) => [o.name, o.role, o.lang, o.disabled_at ? "disabled" : "active", o.last_sign_in_at ? o.last_sign_in_at.toISOString() : "never", o.display_name ?? ""]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

async function run(p: Parsed, ops: Operators, config: Config, io: CliIo): Promise<void> {
  const by = "cli";
  const name = p.name ?? "";
  switch (p.command) {
    case "add": {
      const password = p.passwordStdin ? await passwordFromStdin(io) : undefined;
      const { operator, password: pw } = await ops.add({ name, role: p.role, lang: p.lang ?? config.defaultLanguage, displayName: p.displayName, password }, by);
      io.out(`Added operator "${operator.name}" (role ${operator.role}, language ${operator.lang}).\n`);
      if (!p.passwordStdin) io.out(`Password (shown once): ${pw}\n`);
      return;
    }
    case "list":
      io.out(table(await ops.repo.list()));
      return;
    case "disable":
    case "enable": {
      const o = await ops.find(name);
      const disable = p.command === "disable";
      const changed = await ops.setDisabled(o, disable, by);
      io.out(changed ? (disable ? `Disabled operator "${o.name}"; their sessions have ended.\n` : `Enabled operator "${o.name}".\n`) : `Operator "${o.name}" was already ${disable ? "disabled" : "enabled"}.\n`);
      return;
    }
    case "reset-password": {
      const o = await ops.find(name);
      const given = p.passwordStdin ? await passwordFromStdin(io) : undefined;
      const pw = await ops.resetPassword(o, by, given);
      io.out(`New password set for "${o.name}"; their sessions have ended.\n`);
      if (!p.passwordStdin) io.out(`Password (shown once): ${pw}\n`);
      return;
    }
  }
}

/** Runs `ad-service operator <args>`; returns the exit code. */
export async function operatorCli(args: string[], config: Config, log: Logger, io: CliIo = defaultIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h") || args.length === 0) {
    (args.length ? io.out : io.err)(OPERATOR_HELP);
    return args.length ? 0 : 2;
  }
  try {
    const parsed = parse(args);
    await withMigratedDatabase(config, log, (sql) => run(parsed, new Operators(new OperatorRepository(sql, config.databaseTimeoutMs), log), config, io));
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof OperatorError && (err.problem === "bad_role" || err.problem === "bad_lang"))) {
      io.err(`ad-service operator: ${err.message}\n\n${OPERATOR_HELP}`);
      return 2;
    }
    if (err instanceof OperatorError) {
      io.err(`ad-service operator: ${err.message}\n`);
      return 1;
    }
    if (err instanceof StartError) {
      io.err(`ad-service operator: ${err.message}\n`);
      return 1;
    }
    io.err(`ad-service operator: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
