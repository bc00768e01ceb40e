import { Html } from "@kitajs/html";
import type { Overview } from "../../database/admin-repository";
import { TAB_LABELS } from "./queue";
import type { AdminTab } from "../../database/admin-repository";

function seconds(v: number | null): string {
  if (v === null) return "–";
  return v < 1 ? `${Math.round(v * 1000)} ms` : v < 120 ? `${v.toFixed(1)} s` : `${(v / 60).toFixed(1)} min`;
}

/** Stacked bars of accepted/rejected per day, with submissions as a line of dots. Pure SVG. */
function OutcomesChart({ perDay }: { perDay: Overview["perDay"] }) {
  const W = 700;
  const H = 220;
  const pad = { l: 36, r: 8, t: 10, b: 34 };
  const max = Math.max(1, ...perDay.map((d) => Math.max(d.accepted + d.rejected, d.submitted)));
  const bw = (W - pad.l - pad.r) / Math.max(1, perDay.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const ticks = [0, Math.round(max / 2), max];
  return (
    <svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-labelledby="outcomes-title">
      <title id="outcomes-title">Ads decided per day, accepted and rejected, over the last {String(perDay.length)} days</title>
      {ticks.map((t) => (
        <>
          <line x1={String(pad.l)} x2={String(W - pad.r)} y1={String(y(t))} y2={String(y(t))} class="grid" />
          <text x={String(pad.l - 6)} y={String(y(t) + 4)} class="axis" text-anchor="end">
            {String(t)}
          </text>
        </>
      ))}
      {perDay.map((d, i) => {
        const x = pad.l + i * bw + bw * 0.15;
        const w = bw * 0.7;
        return (
          <g>
            <title>{`${d.day}: ${d.accepted} accepted, ${d.rejected} rejected, ${d.submitted} submitted`}</title>
            <rect x={String(x)} y={String(y(d.accepted))} width={String(w)} height={String(y(0) - y(d.accepted))} class="accepted" />
            <rect x={String(x)} y={String(y(d.accepted + d.rejected))} width={String(w)} height={String(y(d.accepted) - y(d.accepted + d.rejected))} class="rejected" />
            <circle cx={String(x + w / 2)} cy={String(y(d.submitted))} r="3" class="submitted" />
            {i % 2 === perDay.length % 2 ? "" : (
              <text x={String(x + w / 2)} y={String(H - pad.b + 16)} class="axis" text-anchor="middle">
                {d.day.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Provider errors per hour over the last 24 h, one bar per hour stacked by provider. */
function ErrorsChart({ errors }: { errors: Overview["errors"] }) {
  const W = 700;
  const H = 160;
  const pad = { l: 36, r: 8, t: 10, b: 28 };
  const now = new Date();
  const hours = Array.from({ length: 24 }, (_, i) => {
    const d = new Date(now.getTime() - (23 - i) * 3_600_000);
    return d.toISOString().slice(0, 13);
  });
  const providers = [...new Set(errors.map((e) => e.provider))].sort();
  const byHour = new Map<string, Map<string, number>>();
  for (const e of errors) byHour.set(e.hour, (byHour.get(e.hour) ?? new Map()).set(e.provider, e.n));
  const totals = hours.map((h) => [...(byHour.get(h)?.values() ?? [])].reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const bw = (W - pad.l - pad.r) / 24;
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-labelledby="errors-title">
        <title id="errors-title">Provider errors per hour over the last 24 hours</title>
        <line x1={String(pad.l)} x2={String(W - pad.r)} y1={String(y(0))} y2={String(y(0))} class="grid" />
        <text x={String(pad.l - 6)} y={String(y(max) + 4)} class="axis" text-anchor="end">
          {String(max)}
        </text>
        {hours.map((h, i) => {
          let acc = 0;
          return (
            <g>
              <title>{`${h}:00 UTC: ${totals[i]} errors`}</title>
              {providers.map((p, k) => {
                const n = byHour.get(h)?.get(p) ?? 0;
                if (!n) return "";
                const r = <rect x={String(pad.l + i * bw + 2)} y={String(y(acc + n))} width={String(bw - 4)} height={String(y(acc) - y(acc + n))} class={`p${k % 5}`} />;
                acc += n;
                return r;
              })}
              {i % 6 === 0 ? (
                <text x={String(pad.l + i * bw + bw / 2)} y={String(H - 8)} class="axis" text-anchor="middle">
                  {h.slice(11)}h
                </text>
              ) : (
                ""
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {providers.length ? (
          providers.map((p, k) => (
            <span>
              <svg width="12" height="12" aria-hidden="true">
                <rect width="12" height="12" class={`p${k % 5}`} />
              </svg>{" "}
              <span safe>{p}</span>
            </span>
          ))
        ) : (
          <span class="muted">No provider errors in the last 24 hours.</span>
        )}
      </figcaption>
    </figure>
  );
}

/** The overview: pictures, not tables. */
/** One entry of a chart's legend: the swatch (a bar's square or a line's dot) and its name. */
function LegendItem({ kind, dot = false }: { kind: string; dot?: boolean }) {
  return (
    <span>
      <svg width="12" height="12" aria-hidden="true">
        {dot ? <circle cx="6" cy="6" r="4" class={kind} /> : <rect width="12" height="12" class={kind} />}
      </svg>{" "}
      <span safe>{kind}</span>
    </span>
  );
}

export function OverviewView({ o, queueDepth }: { o: Overview; queueDepth: { work: number; dead: number } | null }) {
  return (
    <>
      <h1>Overview</h1>
      <section class="stats" aria-label="Now">
        {(Object.keys(TAB_LABELS) as AdminTab[]).map((t) => (
          <a class={`stat stat-${t}`} href={`/admin?state=${t}`}>
            <span class="stat-n">{String(o.counts[t])}</span>
            <span class="stat-l">{TAB_LABELS[t]}</span>
          </a>
        ))}
        <div class="stat">
          <span class="stat-n">{queueDepth ? String(queueDepth.work) : "?"}</span>
          <span class="stat-l">In the queue</span>
        </div>
        <div class={queueDepth && queueDepth.dead > 0 ? "stat stat-failed" : "stat"}>
          <span class="stat-n">{queueDepth ? String(queueDepth.dead) : "?"}</span>
          <span class="stat-l">Dead-lettered</span>
        </div>
      </section>
      <section aria-labelledby="lat-h" class="latency">
        <h2 id="lat-h">Submit → automatic decision, last 24 h</h2>
        <p>
          <span class="big">{seconds(o.latency.p50)}</span> median · <span class="big">{seconds(o.latency.p95)}</span> p95 ·{" "}
          <span class="muted">{String(o.latency.n)} ads</span>
        </p>
      </section>
      <section aria-labelledby="out-h">
        <h2 id="out-h">Outcomes per day</h2>
        <OutcomesChart perDay={o.perDay} />
        <p class="legend">
          <LegendItem kind="accepted" />
          <LegendItem kind="rejected" />
          <LegendItem kind="submitted" dot />
        </p>
      </section>
      <section aria-labelledby="err-h">
        <h2 id="err-h">Provider errors</h2>
        <ErrorsChart errors={o.errors} />
      </section>
    </>
  );
}
