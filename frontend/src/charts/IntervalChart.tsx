import { useId, useMemo } from "react";
import { ChartDataTable } from "../shared/ChartDataTable";
import "./charts.css";
import { FLAGGED_COLOR, colorAt } from "./palette";
import { extent, formatNumber, linearScale, niceTicks } from "./scale";
import { useWidth } from "./useWidth";

export interface IntervalItem {
  id: string | number;
  label: string;
  /** The point estimate. */
  value: number;
  /** The interval's ends (e.g. a 95% confidence interval). */
  low: number;
  high: number;
  /** Drawn highlighted, and said so in the data table. */
  flagged?: boolean;
  /** Extra words for the tooltip and the data table (e.g. "n = 120"). */
  note?: string;
}

export interface IntervalChartProps {
  title: string;
  description?: string;
  items: IntervalItem[];
  /** Fixed x range, e.g. [0, 1]; by default from the intervals, with round ends. */
  domain?: [number, number];
  /** A dashed vertical line, e.g. at 0.5 for chance. */
  reference?: number;
  referenceLabel?: string;
  xLabel?: string;
  formatValue?: (value: number) => string;
  /** What a flagged row is called in words ("flagged", "outlier"). */
  flaggedLabel?: string;
  rowHeight?: number;
  /** The widest the row labels may take, in px (less on narrow screens). */
  labelWidth?: number;
}

const TOP = 22;
const BOTTOM = 32;
const RIGHT = 14;
const CAP = 5;

/** One row per item: a point with its interval as whiskers, an optional dashed reference line,
 * flagged rows highlighted; role="img" with a title, and the numbers in a hidden table. */
export function IntervalChart({
  title,
  description,
  items,
  domain,
  reference,
  referenceLabel,
  xLabel,
  formatValue,
  flaggedLabel = "flagged",
  rowHeight = 28,
  labelWidth = 180,
}: IntervalChartProps) {
  const id = useId();
  const [box, width] = useWidth<HTMLDivElement>();
  const ticks = useMemo(() => {
    if (domain) return { ...niceTicks(domain[0], domain[1], 5), domain };
    const values = items.flatMap((item) => [item.low, item.high, item.value]);
    if (reference !== undefined) values.push(reference);
    const range = extent(values) ?? [0, 1];
    return niceTicks(range[0], range[1], 5);
  }, [items, domain, reference]);

  const show = formatValue ?? ((value: number) => formatNumber(value, ticks.step / 10));
  const wide = width >= 560;
  const valueColumn = wide ? 130 : 0;
  const labels = Math.min(labelWidth, Math.round(width * 0.36));
  const plotLeft = labels + 10;
  const plotRight = width - RIGHT - valueColumn;
  const scale = linearScale(ticks.domain, [plotLeft, plotRight]);
  const x = (value: number) => Math.round(scale(value) * 100) / 100;
  const height = TOP + items.length * rowHeight + BOTTOM + (xLabel ? 16 : 0);
  const maxChars = Math.max(4, Math.floor(labels / 7));
  const clip = (text: string) => (text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text);
  const axisY = TOP + items.length * rowHeight;
  const visibleTicks = ticks.ticks.filter((t) => t >= ticks.domain[0] && t <= ticks.domain[1]);
  const tickEvery = Math.ceil(visibleTicks.length / Math.max(2, Math.floor((plotRight - plotLeft) / 48)));

  return (
    <figure className="chart interval-chart">
      <figcaption className="chart-title">{title}</figcaption>
      <div className="chart-box" ref={box}>
        {items.length === 0 ? (
          <p className="chart-empty">No data yet.</p>
        ) : (
          <svg
            width={width}
            height={height}
            role="img"
            aria-labelledby={`${id}-title`}
            aria-describedby={description ? `${id}-desc` : undefined}
          >
            <title id={`${id}-title`}>{title}</title>
            {description && <desc id={`${id}-desc`}>{description}</desc>}
            <g className="chart-grid">
              {visibleTicks.map((t, index) => (
                <g key={t}>
                  <line x1={x(t)} x2={x(t)} y1={TOP} y2={axisY} />
                  {index % tickEvery === 0 && (
                    <text x={x(t)} y={axisY + 18} textAnchor="middle">
                      {formatNumber(t, ticks.step)}
                    </text>
                  )}
                </g>
              ))}
              <line className="axis" x1={plotLeft} x2={plotRight} y1={axisY} y2={axisY} />
              {xLabel && (
                <text className="axis-label" x={(plotLeft + plotRight) / 2} y={height - 4} textAnchor="middle">
                  {xLabel}
                </text>
              )}
            </g>
            {items.map((item, index) => {
              const top = TOP + index * rowHeight;
              const mid = top + rowHeight / 2;
              const color = item.flagged ? FLAGGED_COLOR : colorAt(0);
              const words = `${item.label}: ${show(item.value)} (${show(item.low)} to ${show(item.high)})${
                item.flagged ? `, ${flaggedLabel}` : ""
              }${item.note ? `, ${item.note}` : ""}`;
              return (
                <g key={item.id} className={`interval-row${item.flagged ? " is-flagged" : ""}`} data-flagged={item.flagged || undefined}>
                  <title>{words}</title>
                  <rect className="interval-row-bg" x={0} y={top} width={width} height={rowHeight} />
                  <text className="interval-label" x={labels} y={mid} dy="0.32em" textAnchor="end">
                    {item.flagged ? "⚑ " : ""}
                    {clip(item.label)}
                  </text>
                  <line className="whisker" x1={x(item.low)} x2={x(item.high)} y1={mid} y2={mid} stroke={color} />
                  <line className="whisker" x1={x(item.low)} x2={x(item.low)} y1={mid - CAP} y2={mid + CAP} stroke={color} />
                  <line className="whisker" x1={x(item.high)} x2={x(item.high)} y1={mid - CAP} y2={mid + CAP} stroke={color} />
                  {item.flagged ? (
                    <rect x={x(item.value) - 5} y={mid - 5} width={10} height={10} fill={color} transform={`rotate(45 ${x(item.value)} ${mid})`} />
                  ) : (
                    <circle cx={x(item.value)} cy={mid} r={5} fill={color} />
                  )}
                  {wide && (
                    <text className="interval-value" x={width - RIGHT} y={mid} dy="0.32em" textAnchor="end">
                      {show(item.value)} [{show(item.low)}, {show(item.high)}]
                    </text>
                  )}
                </g>
              );
            })}
            {reference !== undefined && (
              <g className="chart-reference">
                <line x1={x(reference)} x2={x(reference)} y1={TOP - 4} y2={axisY} />
                <text x={x(reference)} y={TOP - 8} textAnchor="middle">
                  {referenceLabel ?? show(reference)}
                </text>
              </g>
            )}
          </svg>
        )}
      </div>
      <ChartDataTable
        caption={title}
        columns={["Item", "Value", "Interval", flaggedLabel[0].toUpperCase() + flaggedLabel.slice(1)]}
        rows={items.map((item) => ({
          key: item.id,
          name: item.label,
          cells: [
            show(item.value),
            `${show(item.low)} to ${show(item.high)}`,
            `${item.flagged ? "yes" : "no"}${item.note ? `; ${item.note}` : ""}`,
          ],
        }))}
      />
    </figure>
  );
}
