import { Html } from "@kitajs/html";
import { ADMIN_TABS, type Overview } from "../../database/admin-repository";
import { t, type Lang } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { Provider } from "./detail";
import { dayLabel, digits } from "./parts";

function seconds(lang: Lang, v: number | null): string {
  if (v === null) return "–";
  const d = t(lang).admin.duration;
  return v < 1 ? d.ms(Math.round(v * 1000)) : v < 120 ? d.seconds(v) : d.minutes(v / 60);
}

/** Stacked bars of accepted/rejected per day, with submissions as a line of dots. Pure SVG. */
function OutcomesChart({ perDay, lang }: { perDay: Overview["perDay"]; lang: Lang }) {
  const m = t(lang).admin.overview;
  const W = 700;
  const H = 220;
  const pad = { l: 36, r: 8, t: 10, b: 34 };
  const max = Math.max(1, ...perDay.map((d) => Math.max(d.accepted + d.rejected, d.submitted)));
  const bw = (W - pad.l - pad.r) / Math.max(1, perDay.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const ticks = [0, Math.round(max / 2), max];
  return (
    <svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-labelledby="outcomes-title">
      <title id="outcomes-title">{m.outcomesChartTitle(perDay.length)}</title>
      {ticks.map((t) => (
        <>
          <line x1={String(pad.l)} x2={String(W - pad.r)} y1={String(y(t))} y2={String(y(t))} class="grid" />
          <text x={String(pad.l - 6)} y={String(y(t) + 4)} class="axis" text-anchor="end">
            {formatNumber(lang, t)}
          </text>
        </>
      ))}
      {perDay.map((d, i) => {
        const x = pad.l + i * bw + bw * 0.15;
        const w = bw * 0.7;
        return (
          <g>
            <title>{`${dayLabel(lang, d.day)}: ${formatNumber(lang, d.accepted)} ${m.legend.accepted}, ${formatNumber(lang, d.rejected)} ${m.legend.rejected}, ${formatNumber(lang, d.submitted)} ${m.legend.submitted}`}</title>
            <rect x={String(x)} y={String(y(d.accepted))} width={String(w)} height={String(y(0) - y(d.accepted))} class="accepted" />
            <rect x={String(x)} y={String(y(d.accepted + d.rejected))} width={String(w)} height={String(y(d.accepted) - y(d.accepted + d.rejected))} class="rejected" />
            <circle cx={String(x + w / 2)} cy={String(y(d.submitted))} r="3" class="submitted" />
            {i % 2 === perDay.length % 2 ? "" : (
              <text x={String(x + w / 2)} y={String(H - pad.b + 16)} class="axis" text-anchor="middle">
                {dayLabel(lang, d.day)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** Provider errors per hour over the last 24 h, one bar per hour stacked by provider. */
function ErrorsChart({ errors, lang }: { errors: Overview["errors"]; lang: Lang }) {
  const m = t(lang).admin.overview;
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
        <title id="errors-title">{m.errorsChartTitle}</title>
        <line x1={String(pad.l)} x2={String(W - pad.r)} y1={String(y(0))} y2={String(y(0))} class="grid" />
        <text x={String(pad.l - 6)} y={String(y(max) + 4)} class="axis" text-anchor="end">
          {formatNumber(lang, max)}
        </text>
        {hours.map((h, i) => {
          let acc = 0;
          return (
            <g>
              <title>{m.errorsAt(digits(lang, h.slice(11)), totals[i]!)}</title>
              {providers.map((p, k) => {
                const n = byHour.get(h)?.get(p) ?? 0;
                if (!n) return "";
                const r = <rect x={String(pad.l + i * bw + 2)} y={String(y(acc + n))} width={String(bw - 4)} height={String(y(acc) - y(acc + n))} class={`p${k % 5}`} />;
                acc += n;
                return r;
              })}
              {i % 6 === 0 ? (
                <text x={String(pad.l + i * bw + bw / 2)} y={String(H - 8)} class="axis" text-anchor="middle">
                  {m.hourTick(digits(lang, h.slice(11)))}
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
              <Provider name={p} lang={lang} />
            </span>
          ))
        ) : (
          <span class="muted">{m.noProviderErrors}</span>
        )}
      </figcaption>
    </figure>
  );
}

/** The overview: pictures, not tables. */
/** One entry of a chart's legend: the swatch (a bar's square or a line's dot) and its name. */
function LegendItem({ kind, lang, dot = false }: { kind: "accepted" | "rejected" | "submitted"; lang: Lang; dot?: boolean }) {
  return (
    <span>
      <svg width="12" height="12" aria-hidden="true">
        {dot ? <circle cx="6" cy="6" r="4" class={kind} /> : <rect width="12" height="12" class={kind} />}
      </svg>{" "}
      <span>{t(lang).admin.overview.legend[kind]}</span>
    </span>
  );
}

export function OverviewView({ o, queueDepth, lang }: { o: Overview; queueDepth: { work: number; dead: number } | null; lang: Lang }) {
  const a = t(lang).admin;
  const m = a.overview;
  const n = (v: number) => formatNumber(lang, v);
  return (
    <>
      <h1>{m.heading}</h1>
      <section class="stats" aria-label={m.nowLabel}>
        {ADMIN_TABS.map((tab) => (
          <a class={`stat stat-${tab}`} href={`/admin?state=${tab}`}>
            <span class="stat-n">{n(o.counts[tab])}</span>
            <span class="stat-l">{a.tabs[tab]}</span>
          </a>
        ))}
        <div class="stat">
          <span class="stat-n">{queueDepth ? n(queueDepth.work) : "?"}</span>
          <span class="stat-l">{m.inQueue}</span>
        </div>
        <div class={queueDepth && queueDepth.dead > 0 ? "stat stat-failed" : "stat"}>
          <span class="stat-n">{queueDepth ? n(queueDepth.dead) : "?"}</span>
          <span class="stat-l">{m.deadLettered}</span>
        </div>
      </section>
      <section aria-labelledby="lat-h" class="latency">
        <h2 id="lat-h">{m.latencyHeading}</h2>
        <p>
          <span class="big">{seconds(lang, o.latency.p50)}</span> {m.median} · <span class="big">{seconds(lang, o.latency.p95)}</span> {m.p95} ·{" "}
          <span class="muted">{m.adsCount(o.latency.n)}</span>
        </p>
      </section>
      <section aria-labelledby="out-h">
        <h2 id="out-h">{m.outcomesHeading}</h2>
        <OutcomesChart perDay={o.perDay} lang={lang} />
        <p class="legend">
          <LegendItem kind="accepted" lang={lang} />
          <LegendItem kind="rejected" lang={lang} />
          <LegendItem kind="submitted" lang={lang} dot />
        </p>
      </section>
      <section aria-labelledby="err-h">
        <h2 id="err-h">{m.providerErrors}</h2>
        <ErrorsChart errors={o.errors} lang={lang} />
      </section>
    </>
  );
}
