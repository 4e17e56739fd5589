import { useId } from "react";
import "../charts/charts.css";
import { colorAt } from "../charts/palette";
import { formatNumber, linePath, linearScale, type Scale, type Ticks } from "../charts/scale";
import { useWidth } from "../charts/useWidth";
import { ChartDataTable } from "../shared/ChartDataTable";
import type { Watch } from "./types";
import { REWARD_KL_TITLE, hasCheck, klFromWords, klTicks, rewardKlPoints, rewardKlRows, rewardKlSummary, rewardTicks, type RewardKlPoint } from "./rewardKl";

const LEFT = 56;
const RIGHT_PLAIN = 16;
const RIGHT_AXIS = 56;
const TOP = 24;
const PLOT_HEIGHT = 200;
const HEIGHT = TOP + PLOT_HEIGHT + 44;
const [PROXY, CHECK] = [colorAt(0), colorAt(1)];

function Series({ points, x, y, value, color, name }: { points: RewardKlPoint[]; x: Scale; y: Scale; value: (p: RewardKlPoint) => number | null; color: string; name: string }) {
  const drawn = points.filter((p) => value(p) !== null);
  return (
    <g className={`reward-kl-series ${name === "check" ? "is-check" : "is-proxy"}`}>
      <path className="chart-line" d={linePath(drawn.map((p) => [x(p.kl), y(value(p) ?? NaN)] as const))} stroke={color} />
      {drawn.map((p) => (
        <circle key={p.step} cx={x(p.kl)} cy={y(value(p) ?? NaN)} r={3.5} fill={color}>
          <title>{`Step ${p.step}: KL ${formatNumber(p.kl)}, ${name === "check" ? "second model" : "reward model"} ${formatNumber(value(p) ?? NaN)}`}</title>
        </circle>
      ))}
    </g>
  );
}

function RewardAxis({ ticks, y, x, anchor, label }: { ticks: Ticks; y: Scale; x: number; anchor: "start" | "end"; label: string }) {
  return (
    <g className="chart-grid">
      {/* the axis' name inside the chart's box: the left one from its edge, the right one to it */}
      <text className="axis-label" x={anchor === "end" ? 0 : x + RIGHT_AXIS} y={TOP - 10} textAnchor={anchor === "end" ? "start" : "end"}>
        {label}
      </text>
      {ticks.ticks.map((t) => (
        <text key={t} x={x + (anchor === "end" ? -6 : 6)} y={y(t)} dy="0.32em" textAnchor={anchor}>
          {formatNumber(t, ticks.step)}
        </text>
      ))}
    </g>
  );
}

/** A PPO round's over-optimisation curve: each step's mean reward under its own reward model
 * against its KL from the parent (or the base, under kl_from base), and, when the run names a second reward model, that model's
 * mean reward on its own scale at the right; the KL budget dashed. */
export function RewardKlChart({ watch }: { watch: Watch }) {
  const id = useId();
  const [box, width] = useWidth<HTMLDivElement>();
  const points = rewardKlPoints(watch);
  const withCheck = hasCheck(points);
  const right = width - (withCheck ? RIGHT_AXIS : RIGHT_PLAIN);
  const bottom = TOP + PLOT_HEIGHT;
  const kl = klTicks(points, watch.kl_budget);
  const proxy = rewardTicks(points.map((p) => p.reward));
  const check = rewardTicks(points.map((p) => p.check));
  const x = linearScale(kl.domain, [LEFT, right]);
  const proxyY = linearScale(proxy.domain, [bottom, TOP]);
  const checkY = linearScale(check.domain, [bottom, TOP]);
  const caption = `Each step's mean reward against its ${klFromWords(watch.kl_from)}${withCheck ? "; the second reward model's on its own scale (right axis: the two models' units differ)" : ""}; the dashed line is the KL budget.`;

  return (
    <figure className="chart reward-kl" data-testid="reward-kl">
      <figcaption className="chart-title">{REWARD_KL_TITLE}</figcaption>
      <div className="chart-box" ref={box}>
        {points.length === 0 ? (
          <p className="chart-empty">No steps logged yet.</p>
        ) : (
          <svg width={width} height={HEIGHT} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
            <title id={`${id}-title`}>{REWARD_KL_TITLE}</title>
            <desc id={`${id}-desc`}>{rewardKlSummary(points, watch.kl_budget, watch.kl_from)}</desc>
            <g className="chart-grid">
              {proxy.ticks.map((t) => (
                <line key={t} x1={LEFT} x2={right} y1={proxyY(t)} y2={proxyY(t)} />
              ))}
              {kl.ticks.map((t) => (
                <text key={t} x={x(t)} y={bottom + 16} textAnchor="middle">
                  {formatNumber(t, kl.step)}
                </text>
              ))}
              <text className="axis-label" x={(LEFT + right) / 2} y={HEIGHT - 6} textAnchor="middle">
                {klFromWords(watch.kl_from)} (nats per answer)
              </text>
            </g>
            <RewardAxis ticks={proxy} y={proxyY} x={LEFT} anchor="end" label="Reward model" />
            {withCheck && <RewardAxis ticks={check} y={checkY} x={right} anchor="start" label="Second model" />}
            {watch.kl_budget !== null && (
              <g className="chart-reference kl-budget">
                <title>{`KL budget: ${formatNumber(watch.kl_budget)} nats`}</title>
                <line x1={x(watch.kl_budget)} x2={x(watch.kl_budget)} y1={TOP} y2={bottom} />
              </g>
            )}
            <Series points={points} x={x} y={proxyY} value={(p) => p.reward} color={PROXY} name="proxy" />
            {withCheck && <Series points={points} x={x} y={checkY} value={(p) => p.check} color={CHECK} name="check" />}
          </svg>
        )}
      </div>
      <p className="muted chart-caption">{caption}</p>
      <ul className="chart-legend" aria-hidden="true">
        {[[PROXY, "The round's reward model (left axis)"], ...(withCheck ? [[CHECK, "Second reward model (right axis)"]] : [])].map(([color, name]) => (
          <li key={name}>
            <span className="chart-swatch" style={{ background: color }} /> {name}
          </li>
        ))}
      </ul>
      <ChartDataTable caption={REWARD_KL_TITLE} columns={["Step", "KL (nats)", "Reward model", ...(withCheck ? ["Second model"] : [])]} rows={rewardKlRows(points)} />
    </figure>
  );
}
