import { useId } from "react";
import "../charts/charts.css";
import { colorAt } from "../charts/palette";
import { formatNumber, linePath, linearScale } from "../charts/scale";
import { useWidth } from "../charts/useWidth";
import { ChartDataTable } from "../shared/ChartDataTable";
import { KL_DRIFT_TITLE, budgetWords, klAxis, klDriftDescription, klDriftRows } from "./klDrift";
import type { PolicyRound } from "./types";
import { bandCentres } from "./watch";

const LEFT = 56;
const RIGHT = 16;
const TOP = 22;
const PLOT = 160;
const HEIGHT = TOP + PLOT + 28;
const [BASE, PARENT, BUDGET] = [colorAt(0), colorAt(1), colorAt(4)];

/** Each round along a policy lineage, oldest first: its KL from the base as a line (the drift
 * that adds up over rounds), its KL from its parent as a hollow square, and its KL budget as a
 * dashed tick across its band (solid when the budget counted from the base). */
export function KlDriftChart({ rounds }: { rounds: PolicyRound[] }) {
  const id = useId();
  const [box, width] = useWidth<HTMLDivElement>();
  const right = width - RIGHT;
  const xs = bandCentres(rounds.length, LEFT, right);
  const half = Math.min(24, (right - LEFT) / Math.max(1, rounds.length) / 2 - 4);
  const axis = klAxis(rounds);
  const y = linearScale(axis.domain, [TOP + PLOT, TOP]);
  const base = rounds.map((r, index) => [xs[index], r.kl_to_base === null ? NaN : y(r.kl_to_base)] as const);
  const empty = rounds.every((r) => r.kl_to_base === null && r.kl_to_parent === null);

  return (
    <figure className="chart kl-drift" data-testid="kl-drift">
      <figcaption className="chart-title">{KL_DRIFT_TITLE}</figcaption>
      <div className="chart-box" ref={box}>
        {empty ? (
          <p className="chart-empty">No data yet: no policy round along this lineage has measured its KL.</p>
        ) : (
          <svg width={width} height={HEIGHT} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
            <title id={`${id}-title`}>{KL_DRIFT_TITLE}</title>
            <desc id={`${id}-desc`}>{klDriftDescription(rounds)}</desc>
            <g className="chart-grid">
              <text className="axis-label" x={LEFT} y={TOP - 8}>
                KL, nats per answer
              </text>
              {axis.ticks.map((t) => (
                <g key={t}>
                  <line className={t === 0 ? "axis" : undefined} x1={LEFT} x2={right} y1={y(t)} y2={y(t)} />
                  <text x={LEFT - 6} y={y(t)} dy="0.32em" textAnchor="end">
                    {formatNumber(t, axis.step)}
                  </text>
                </g>
              ))}
              {rounds.map((round, index) => (
                <text key={round.run_id} x={xs[index]} y={HEIGHT - 8} textAnchor="middle">
                  <title>{`${round.version.name}, run #${round.run_id} (${round.kind.toUpperCase()})`}</title>R{index + 1}
                </text>
              ))}
            </g>
            {rounds.map((round, index) =>
              round.kl_budget === null ? null : (
                <line key={`b${round.run_id}`} className="kl-drift-budget" x1={xs[index] - half} x2={xs[index] + half} y1={y(round.kl_budget)} y2={y(round.kl_budget)} stroke={BUDGET} strokeWidth={2} strokeDasharray={round.kl_from === "base" ? undefined : "4 3"}>
                  <title>{`Round ${index + 1} budget: ${budgetWords(round)}`}</title>
                </line>
              ),
            )}
            <path className="chart-line" d={linePath(base)} stroke={BASE} />
            {rounds.map((round, index) => (
              <g key={round.run_id}>
                {round.kl_to_parent !== null && (
                  <rect className="kl-parent" x={xs[index] - 5} y={y(round.kl_to_parent) - 5} width={10} height={10} fill="white" stroke={PARENT} strokeWidth={2}>
                    <title>{`Round ${index + 1}: ${formatNumber(Number(round.kl_to_parent.toFixed(2)))} nats from its parent`}</title>
                  </rect>
                )}
                {round.kl_to_base !== null && (
                  <circle className="kl-base" cx={xs[index]} cy={y(round.kl_to_base)} r={5} fill={BASE}>
                    <title>{`Round ${index + 1}: ${formatNumber(Number(round.kl_to_base.toFixed(2)))} nats from the base`}</title>
                  </circle>
                )}
              </g>
            ))}
          </svg>
        )}
      </div>
      <ul className="chart-legend" aria-hidden="true">
        {[
          [BASE, "KL from the base (cumulative drift)"],
          [PARENT, "KL from the round's parent"],
          [BUDGET, "The round's budget (solid: counted from the base)"],
        ].map(([color, name]) => (
          <li key={name}>
            <span className="chart-swatch" style={{ background: color }} /> {name}
          </li>
        ))}
      </ul>
      <ChartDataTable caption={KL_DRIFT_TITLE} columns={["Round", "KL from the base", "KL from the parent", "Budget"]} rows={klDriftRows(rounds)} />
    </figure>
  );
}
