import { useId, useMemo, useState, type KeyboardEvent, type PointerEvent } from "react";
import { ChartDataTable } from "../shared/ChartDataTable";
import "./charts.css";
import { colorAt } from "./palette";
import {
  bandPath,
  extent,
  formatDateTime,
  formatNumber,
  formatTime,
  linePath,
  linearScale,
  nearestIndex,
  niceTicks,
  timeTicks,
} from "./scale";
import { useWidth } from "./useWidth";

export interface LinePoint {
  /** A time (Date or epoch ms) when `xType` is "time", else a number. */
  x: number | Date;
  y: number;
  /** A confidence band around y, drawn when both are given. */
  low?: number;
  high?: number;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
  color?: string;
  dashed?: boolean;
}

export interface LineChartProps {
  /** Names the chart for screen readers and captions it. */
  title: string;
  /** One or two sentences saying what the chart shows (read by screen readers). */
  description?: string;
  series: LineSeries[];
  xType?: "time" | "number";
  xLabel?: string;
  yLabel?: string;
  /** Fixed y range (e.g. [0, 1] for a rate); by default from the data, with round ends. */
  yDomain?: [number, number];
  /** A dashed horizontal line, e.g. a target. */
  referenceY?: { value: number; label?: string };
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
  /** Counts: y ticks on whole numbers only. */
  integerY?: boolean;
  /** Drawing height in px; the width follows the container. */
  height?: number;
  /** The legend shows by default when there is more than one series. */
  showLegend?: boolean;
}

const MARGIN = { top: 14, right: 18, bottom: 34 };
const CHAR_PX = 7.2;

function xNumber(x: number | Date): number {
  return x instanceof Date ? x.getTime() : x;
}

/** One or more series over time (or any x), with optional confidence bands, axis ticks, a
 * tooltip that follows the pointer or the arrow keys, a legend, and a hidden data table. */
export function LineChart({
  title,
  description,
  series,
  xType = "time",
  xLabel,
  yLabel,
  yDomain,
  referenceY,
  formatX,
  formatY,
  integerY = false,
  height = 260,
  showLegend,
}: LineChartProps) {
  const id = useId();
  const [box, width] = useWidth<HTMLDivElement>();
  const [active, setActive] = useState<number | null>(null);

  const model = useMemo(() => {
    const clean = series.map((s, index) => ({
      ...s,
      color: s.color ?? colorAt(index),
      points: s.points
        .map((p) => ({ ...p, x: xNumber(p.x) }))
        .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
        .sort((a, b) => a.x - b.x),
    }));
    const byX = clean.map((s) => new Map(s.points.map((p) => [p.x, p])));
    const xs = [...new Set(clean.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
    const ys = clean.flatMap((s) => s.points.flatMap((p) => [p.y, p.low ?? NaN, p.high ?? NaN]));
    if (referenceY) ys.push(referenceY.value);
    const xExtent = extent(xs);
    const yExtent = yDomain ?? extent(ys) ?? [0, 1];
    const count = integerY ? Math.max(1, Math.min(5, Math.ceil(yExtent[1] - yExtent[0]))) : 5;
    const yTicks = yDomain ? { ...niceTicks(yDomain[0], yDomain[1], count), domain: yDomain } : niceTicks(yExtent[0], yExtent[1], count);
    // Day-bucketed data (every x at local midnight) needs no clock time in the tooltip.
    const daily = xs.every((value) => new Date(value).getHours() === 0 && new Date(value).getMinutes() === 0);
    return { clean, byX, xs, xExtent, yTicks, daily };
  }, [series, yDomain, referenceY, integerY]);

  const { clean, byX, xs, xExtent, yTicks, daily } = model;
  const showTick = formatY ?? ((y: number) => formatNumber(y, yTicks.step));
  const showY = formatY ?? ((y: number) => formatNumber(y));
  const yTickLabels = yTicks.ticks.filter((t) => t >= yTicks.domain[0] && t <= yTicks.domain[1]);
  const left = Math.max(...yTickLabels.map((t) => showTick(t).length), 1) * CHAR_PX + 14 + (yLabel ? 16 : 0);
  const bottom = MARGIN.bottom + (xLabel ? 18 : 0);
  const plotWidth = Math.max(40, width - left - MARGIN.right);
  const plotHeight = Math.max(40, height - MARGIN.top - bottom);
  const maxXTicks = Math.max(2, Math.floor(plotWidth / (xType === "time" ? 80 : 60)));
  const xTicks =
    xExtent === null
      ? null
      : xType === "time"
        ? timeTicks(xExtent[0], xExtent[1], Math.min(6, maxXTicks))
        : niceTicks(xExtent[0], xExtent[1], Math.min(6, maxXTicks));
  const showX = formatX ?? ((x: number) => (xType === "time" ? formatTime(x, xTicks?.step) : formatNumber(x, xTicks?.step)));
  const showXFull = formatX ?? ((x: number) => (xType === "time" ? formatDateTime(x, daily) : formatNumber(x)));
  const xDomain = xTicks ? xTicks.domain : ([0, 1] as const);
  const xScale = linearScale(xDomain, [left, left + plotWidth]);
  const yScale = linearScale(yTicks.domain, [MARGIN.top + plotHeight, MARGIN.top]);
  const x = (value: number) => Math.round(xScale(value) * 100) / 100;
  const y = (value: number) => Math.round(yScale(value) * 100) / 100;
  const legend = showLegend ?? clean.length > 1;
  const activeX = active !== null ? xs[active] : null;

  function pointAt(event: PointerEvent<SVGSVGElement>) {
    const rect = event.currentTarget.getBoundingClientRect();
    const px = event.clientX - rect.left;
    if (px < left - 8 || px > left + plotWidth + 8) return setActive(null);
    setActive(nearestIndex(xs, (px - left) / plotWidth * (xDomain[1] - xDomain[0]) + xDomain[0]));
  }

  function keys(event: KeyboardEvent<SVGSVGElement>) {
    if (xs.length === 0) return;
    const last = xs.length - 1;
    const moves: Record<string, number> = {
      ArrowRight: Math.min(last, (active ?? -1) + 1),
      ArrowLeft: Math.max(0, (active ?? last + 1) - 1),
      Home: 0,
      End: last,
    };
    if (event.key in moves) {
      event.preventDefault();
      setActive(moves[event.key]);
    } else if (event.key === "Escape") setActive(null);
  }

  const empty = xs.length === 0;
  const tooltipLeft = activeX !== null ? x(activeX) : 0;
  return (
    <figure className="chart line-chart">
      <figcaption className="chart-title" id={`${id}-caption`}>
        {title}
      </figcaption>
      <div className="chart-box" ref={box}>
        {empty ? (
          <p className="chart-empty">No data yet.</p>
        ) : (
          <svg
            width={width}
            height={height}
            role="img"
            aria-labelledby={`${id}-title`}
            aria-describedby={description ? `${id}-desc` : undefined}
            tabIndex={0}
            onPointerMove={pointAt}
            onPointerLeave={() => setActive(null)}
            onKeyDown={keys}
            onBlur={() => setActive(null)}
          >
            <title id={`${id}-title`}>{title}</title>
            {description && <desc id={`${id}-desc`}>{description}</desc>}
            <g className="chart-grid" aria-hidden="true">
              {yTickLabels.map((t) => (
                <g key={t}>
                  <line x1={left} x2={left + plotWidth} y1={y(t)} y2={y(t)} />
                  <text x={left - 8} y={y(t)} dy="0.32em" textAnchor="end">
                    {showTick(t)}
                  </text>
                </g>
              ))}
              {xTicks?.ticks.map((t) => (
                <g key={t}>
                  <line className="tick" x1={x(t)} x2={x(t)} y1={MARGIN.top + plotHeight} y2={MARGIN.top + plotHeight + 5} />
                  <text x={x(t)} y={MARGIN.top + plotHeight + 18} textAnchor="middle">
                    {showX(t)}
                  </text>
                </g>
              ))}
              <line className="axis" x1={left} x2={left + plotWidth} y1={MARGIN.top + plotHeight} y2={MARGIN.top + plotHeight} />
              {xLabel && (
                <text className="axis-label" x={left + plotWidth / 2} y={height - 4} textAnchor="middle">
                  {xLabel}
                </text>
              )}
              {yLabel && (
                <text
                  className="axis-label"
                  transform={`translate(12 ${MARGIN.top + plotHeight / 2}) rotate(-90)`}
                  textAnchor="middle"
                >
                  {yLabel}
                </text>
              )}
            </g>
            {referenceY && (
              <g className="chart-reference" aria-hidden="true">
                <line x1={left} x2={left + plotWidth} y1={y(referenceY.value)} y2={y(referenceY.value)} />
                {referenceY.label && (
                  <text x={left + plotWidth - 4} y={y(referenceY.value) - 5} textAnchor="end">
                    {referenceY.label}
                  </text>
                )}
              </g>
            )}
            <g aria-hidden="true">
              {clean.map((s) => {
                const band = bandPath(
                  s.points
                    .filter((p) => p.low !== undefined && p.high !== undefined)
                    .map((p) => [x(p.x), y(p.low as number), y(p.high as number)] as const),
                );
                return band ? <path key={`${s.name}-band`} className="chart-band" d={band} fill={s.color} /> : null;
              })}
              {clean.map((s) => (
                <g key={s.name}>
                  <path
                    className="chart-line"
                    d={linePath(s.points.map((p) => [x(p.x), y(p.y)] as const))}
                    stroke={s.color}
                    strokeDasharray={s.dashed ? "6 4" : undefined}
                  />
                  {s.points.length <= 60 &&
                    s.points.map((p) => <circle key={p.x} cx={x(p.x)} cy={y(p.y)} r={2.5} fill={s.color} />)}
                </g>
              ))}
            </g>
            {activeX !== null && (
              <g className="chart-hover" aria-hidden="true">
                <line x1={x(activeX)} x2={x(activeX)} y1={MARGIN.top} y2={MARGIN.top + plotHeight} />
                {clean.map((s, index) => {
                  const p = byX[index].get(activeX);
                  return p ? <circle key={s.name} cx={x(p.x)} cy={y(p.y)} r={4.5} fill={s.color} /> : null;
                })}
              </g>
            )}
            <rect
              className="chart-overlay"
              x={left}
              y={MARGIN.top}
              width={plotWidth}
              height={plotHeight}
              fill="transparent"
            />
          </svg>
        )}
        {activeX !== null && (
          <div
            className="chart-tooltip"
            aria-hidden="true"
            data-testid="chart-tooltip"
            style={
              tooltipLeft > width / 2
                ? { right: width - tooltipLeft + 10, top: MARGIN.top }
                : { left: tooltipLeft + 10, top: MARGIN.top }
            }
          >
            <div className="chart-tooltip-x">{showXFull(activeX)}</div>
            {clean.map((s, index) => {
              const p = byX[index].get(activeX);
              if (!p) return null;
              return (
                <div key={s.name}>
                  <span className="chart-swatch" style={{ background: s.color }} /> {s.name}: <b>{showY(p.y)}</b>
                  {p.low !== undefined && p.high !== undefined && (
                    <span className="muted">
                      {" "}
                      ({showY(p.low)}–{showY(p.high)})
                    </span>
                  )}
                </div>
              );
            })}
          </div>
        )}
      </div>
      {legend && !empty && (
        <ul className="chart-legend" aria-hidden="true">
          {clean.map((s) => (
            <li key={s.name}>
              <svg width="22" height="10">
                <line x1="1" x2="21" y1="5" y2="5" stroke={s.color} strokeWidth="3" strokeDasharray={s.dashed ? "5 3" : undefined} />
              </svg>
              {s.name}
            </li>
          ))}
        </ul>
      )}
      <ChartDataTable
        caption={title}
        columns={[xLabel ?? (xType === "time" ? "Time" : "x"), ...clean.map((s) => s.name)]}
        rows={xs.map((value) => ({
          key: value,
          name: showXFull(value),
          cells: clean.map((_, index) => {
            const p = byX[index].get(value);
            if (!p) return "–";
            return p.low !== undefined && p.high !== undefined ? `${showY(p.y)} (${showY(p.low)} to ${showY(p.high)})` : showY(p.y);
          }),
        }))}
      />
    </figure>
  );
}
