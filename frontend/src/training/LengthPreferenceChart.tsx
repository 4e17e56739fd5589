import { useId } from "react";
import "../charts/charts.css";
import { FLAGGED_COLOR, colorAt } from "../charts/palette";
import { formatNumber, linePath, linearScale } from "../charts/scale";
import { useWidth } from "../charts/useWidth";
import { ChartDataTable } from "../shared/ChartDataTable";
import type { LengthPreference } from "./types";
import { WARNING_TITLES, bandCentres, formatRatio, formatSpan, lengthPreferenceRows, ratioAxis, slopeSpan, slopeTicks } from "./watch";

export const LENGTH_PREFERENCE_TITLE = "Length preference: raters, reward model, policy drift";

const LEFT = 56;
const RIGHT = 16;
const SLOPE_TOP = 22;
const SLOPE_HEIGHT = 140;
const RATIO_TOP = SLOPE_TOP + SLOPE_HEIGHT + 40;
const RATIO_HEIGHT = 120;
const HEIGHT = RATIO_TOP + RATIO_HEIGHT + 28;
const [RATERS, REWARD, POLICY] = [colorAt(0), colorAt(1), colorAt(2)];

/** Two panels over the rounds of a policy lineage, oldest first: above, the length slopes in
 * log-odds towards the longer answer (the raters' from the quality report as a band, each
 * round's reward model's as a point with its 95 % interval); below, each round's mean answer
 * length over its parent's on a log scale, with the watch's thresholds dashed. */
export function LengthPreferenceChart({ chart }: { chart: LengthPreference }) {
  const id = useId();
  const [box, width] = useWidth<HTMLDivElement>();
  const right = width - RIGHT;
  const xs = bandCentres(chart.rounds.length, LEFT, right);
  const ticks = slopeTicks(chart);
  const slopeY = linearScale(ticks.domain, [SLOPE_TOP + SLOPE_HEIGHT, SLOPE_TOP]);
  const factor = chart.length_drift_factor;
  const axis = ratioAxis(chart.rounds.map((r) => r.length_ratio), factor);
  const log = linearScale(axis.domain, [RATIO_TOP + RATIO_HEIGHT, RATIO_TOP]);
  const ratioY = (ratio: number) => log(Math.log2(ratio));
  const raters = slopeSpan(chart.raters_slope, chart.raters_slope_se);
  const empty = chart.rounds.length === 0 && raters === null;
  const description = `Above: the raters' length slope${raters ? ` (${formatSpan(raters)})` : " (not known yet)"} as a band and each round's reward model's slope as a point, in log-odds towards the longer answer. Below: each round's mean answer length over its parent's, log scale, with the watch's thresholds at ${formatRatio(1 / factor)} and ${formatRatio(factor)}.`;
  const drift = chart.rounds.map((round, index) => [xs[index], round.length_ratio === null ? NaN : ratioY(round.length_ratio)] as const);

  return (
    <figure className="chart length-preference" data-testid="length-preference">
      <figcaption className="chart-title">{LENGTH_PREFERENCE_TITLE}</figcaption>
      <div className="chart-box" ref={box}>
        {empty ? (
          <p className="chart-empty">No data yet: no judged pairs of unequal length, and no PPO or DPO round along this lineage.</p>
        ) : (
          <svg width={width} height={HEIGHT} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
            <title id={`${id}-title`}>{LENGTH_PREFERENCE_TITLE}</title>
            <desc id={`${id}-desc`}>{description}</desc>
            <g className="chart-grid">
              <text className="axis-label" x={LEFT} y={SLOPE_TOP - 8}>
                Length slope (log-odds towards the longer answer)
              </text>
              {ticks.ticks.map((t) => (
                <g key={`s${t}`}>
                  <line className={t === 0 ? "axis" : undefined} x1={LEFT} x2={right} y1={slopeY(t)} y2={slopeY(t)} />
                  <text x={LEFT - 6} y={slopeY(t)} dy="0.32em" textAnchor="end">
                    {formatNumber(t, ticks.step)}
                  </text>
                </g>
              ))}
              <text className="axis-label" x={LEFT} y={RATIO_TOP - 8}>
                Policy answer length ÷ parent's (log scale)
              </text>
              {axis.ticks.map((t) => (
                <g key={`r${t}`}>
                  <line className={t === 1 ? "axis" : undefined} x1={LEFT} x2={right} y1={ratioY(t)} y2={ratioY(t)} />
                  <text x={LEFT - 6} y={ratioY(t)} dy="0.32em" textAnchor="end">
                    {formatRatio(t)}
                  </text>
                </g>
              ))}
              {chart.rounds.map((round, index) => (
                <text key={round.run_id} x={xs[index]} y={HEIGHT - 8} textAnchor="middle">
                  <title>{`${round.version.name}, run #${round.run_id} (${round.kind.toUpperCase()})`}</title>
                  R{index + 1}
                </text>
              ))}
            </g>
            {raters && (
              <g className="raters-slope">
                <title>{`Raters: ${formatSpan(raters)}`}</title>
                <rect className="chart-band" x={LEFT} width={right - LEFT} y={slopeY(raters.high)} height={Math.max(1, slopeY(raters.low) - slopeY(raters.high))} fill={RATERS} />
                <line x1={LEFT} x2={right} y1={slopeY(raters.value)} y2={slopeY(raters.value)} stroke={RATERS} strokeWidth={2} strokeDasharray="6 4" />
              </g>
            )}
            {chart.rounds.map((round, index) => {
              const span = slopeSpan(round.reward_slope, round.reward_slope_se);
              if (!span) return null;
              return (
                <g key={round.run_id} className="reward-slope">
                  <title>{`Round ${index + 1}, reward model ${round.reward_version?.name ?? ""}: ${formatSpan(span)}`}</title>
                  <line className="whisker" x1={xs[index]} x2={xs[index]} y1={slopeY(span.low)} y2={slopeY(span.high)} stroke={REWARD} />
                  <circle cx={xs[index]} cy={slopeY(span.value)} r={5} fill={REWARD} />
                </g>
              );
            })}
            <g className="chart-reference">
              {[1 / factor, factor].map((threshold) => (
                <line key={threshold} x1={LEFT} x2={right} y1={ratioY(threshold)} y2={ratioY(threshold)} />
              ))}
            </g>
            <path className="chart-line" d={linePath(drift)} stroke={POLICY} />
            {chart.rounds.map((round, index) => {
              if (round.length_ratio === null) return null;
              const [x, y] = [xs[index], ratioY(round.length_ratio)];
              const flagged = round.warnings.length > 0;
              const words = `Round ${index + 1}: answers ${formatRatio(round.length_ratio)} the parent's length${flagged ? `; ${round.warnings.map((c) => WARNING_TITLES[c]).join("; ")}` : ""}`;
              return (
                <g key={round.run_id} className={`policy-drift${flagged ? " is-flagged" : ""}`} data-flagged={flagged || undefined}>
                  <title>{words}</title>
                  {flagged ? <rect x={x - 5} y={y - 5} width={10} height={10} fill={FLAGGED_COLOR} transform={`rotate(45 ${x} ${y})`} /> : <circle cx={x} cy={y} r={5} fill={POLICY} />}
                </g>
              );
            })}
          </svg>
        )}
      </div>
      <ul className="chart-legend" aria-hidden="true">
        {[
          [RATERS, "Raters (campaign quality report), 95 % band"],
          [REWARD, "Each round's reward model, 95 % interval"],
          [POLICY, "Policy length ÷ parent's; ◆ a round with warnings"],
        ].map(([color, name]) => (
          <li key={name}>
            <span className="chart-swatch" style={{ background: color }} /> {name}
          </li>
        ))}
      </ul>
      <ChartDataTable caption={LENGTH_PREFERENCE_TITLE} columns={["Who", "Length slope (95 % interval)", "Length ÷ parent's", "Warnings"]} rows={lengthPreferenceRows(chart)} />
    </figure>
  );
}
