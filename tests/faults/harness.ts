/**
 * Fault-test harness: the compiled binary against the real services, with the invariant of
 * reliability.md checked after every fault:
 *   every id that got a 201 ends decided (or `failed` where the fault was permanent),
 *   one decision per ad, at least one e-mail per decision, duplicates counted.
 */
import postgres from "postgres";
import { startImaggaDouble } from "../doubles/imagga";
import { startMailgunDouble } from "../doubles/mailgun";
import { startBinary, type Running } from "../support/binary";
import { photo } from "../support/fixtures";
import { adForm, createTestDatabase, deleteQueues, testEnv } from "../support/stack";

/**
 * A compressed retry schedule, only for tests about exhausting the retry budget (their names say
 * so). Every recovery test runs on the defaults (RETRY_DELAYS 5s,30s,2m,10m,30m; SWEEP_AFTER 5m).
 */
export const FAULT_DELAYS = "200ms,400ms,800ms,1600ms";

/** The service's promise: every affected ad decided and e-mailed within this long after a fault ends. */
export const RECOVERY_BOUND_MS = 60_000;

export async function startFaultStack(extra: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const imagga = startImaggaDouble();
  const mailgun = startMailgunDouble();
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const queue = `fault.ads.${id}`;
  const env = testEnv({ databaseUrl: db.url, queue, bucket: `fault-${id}`, imaggaUrl: imagga.url, mailgunUrl: mailgun.url }, {
    PORT: "0",
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "10000",
  });
  // The defaults, unless a test says otherwise: testEnv compresses RETRY_DELAYS for the unit-level stacks.
  delete (env as Record<string, string>).RETRY_DELAYS;
  Object.assign(env, extra);
  const procs: Running[] = [];
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  return {
    env,
    imagga,
    mailgun,
    queue,
    sql,
    /** Starts the binary with the stack's environment plus `more`. */
    async start(args: string[] = [], more: Record<string, string> = {}) {
      const r = await startBinary(args, { ...env, ...more });
      procs.push(r);
      return r;
    },
    /** POSTs one ad; resolves to its id (201) or null (any other outcome, including a dropped connection). */
    async submit(url: string, file = "vehicle-car-rear.jpg", headers: Record<string, string> = {}): Promise<string | null> {
      try {
        const res = await fetch(`${url}/ads`, { method: "POST", body: adForm({ description: `Ad ${file}`, email: "poster@example.com", image: photo(file) }), headers });
        if (res.status !== 201) return null;
        return ((await res.json()) as { id: string }).id;
      } catch {
        return null;
      }
    },
    async stop() {
      for (const p of procs) await p.stop("SIGKILL");
      imagga.stop();
      mailgun.stop();
      await sql.end({ timeout: 1 }).catch(() => {});
      await deleteQueues(queue);
      await db.drop();
    },
  };
}

export type FaultStack = Awaited<ReturnType<typeof startFaultStack>>;

export interface InvariantReport {
  submitted: number;
  decided: number;
  failed: number;
  pending: number;
  decisionsOverOne: number;
  missingEmails: number;
  duplicateEmails: number;
  /** How long `settle` waited (ms). */
  tookMs: number;
}

/** Reads the database and the Mailgun double; says where the invariant stands for `ids`. */
export async function invariant(stack: FaultStack, ids: string[]): Promise<InvariantReport> {
  const rows = ids.length
    ? await stack.sql<{ id: string; state: string; decisions: number }[]>`
        select a.id, a.state,
               (select count(*)::int from ad_events e where e.ad_id = a.id and e.to_state in ('accepted', 'rejected')) as decisions
          from ads a where a.id in ${stack.sql(ids)}`
    : [];
  const r: InvariantReport = { submitted: ids.length, decided: 0, failed: 0, pending: ids.length - rows.length, decisionsOverOne: 0, missingEmails: 0, duplicateEmails: 0, tookMs: 0 };
  for (const row of rows) {
    if (row.state === "accepted" || row.state === "rejected") {
      r.decided++;
      const mails = stack.mailgun.forAd(row.id).length;
      if (mails === 0) r.missingEmails++;
      r.duplicateEmails += Math.max(0, mails - 1);
    } else if (row.state === "failed") r.failed++;
    else r.pending++;
    if (row.decisions > 1) r.decisionsOverOne++;
  }
  return r;
}

/**
 * Waits until every id is decided or failed and e-mailed (or the timeout passes — by default the
 * recovery bound, counted from the call, which tests make right after the fault ends); returns
 * the last report with the time it took.
 */
export async function settle(stack: FaultStack, ids: string[], timeoutMs = RECOVERY_BOUND_MS): Promise<InvariantReport> {
  const t0 = Date.now();
  const end = t0 + timeoutMs;
  let r = await invariant(stack, ids);
  while ((r.pending > 0 || r.missingEmails > 0) && Date.now() < end) {
    await Bun.sleep(100);
    r = await invariant(stack, ids);
  }
  return { ...r, tookMs: Date.now() - t0 };
}

/** Runs a command; throws with its output on a non-zero exit. */
export async function sh(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${out}${err}`);
  return out;
}

export const rabbit = {
  stop: () => sh(["rabbitmqctl", "-q", "stop_app"]),
  start: async () => {
    await sh(["rabbitmqctl", "-q", "start_app"]);
    await sh(["rabbitmqctl", "-q", "await_startup"]);
  },
};

/** Stops PostgreSQL (fast mode: connections are cut), keeps it down for `downMs`, starts it again. */
export async function restartPostgres(downMs: number): Promise<void> {
  const version = (await sh(["ls", "/etc/postgresql"])).trim().split("\n")[0]!;
  await sh(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop", "-m", "fast"]);
  try {
    await Bun.sleep(downMs);
  } finally {
    await sh(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]);
  }
}

/** Prints one line of the fault table (collected into the closing note). */
export function report(name: string, injected: string, r: InvariantReport): void {
  console.log(`FAULT ${name} | ${injected} | submitted=${r.submitted} decided=${r.decided} failed=${r.failed} pending=${r.pending} multi-decisions=${r.decisionsOverOne} missing-emails=${r.missingEmails} duplicate-emails=${r.duplicateEmails} | recovered in ${(r.tookMs / 1000).toFixed(1)} s`);
}
