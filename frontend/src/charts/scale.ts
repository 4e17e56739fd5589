/** Pure helpers for the SVG charts: scales, "nice" ticks, and how numbers and times read. */

export type Domain = readonly [number, number];

export interface Scale {
  (value: number): number;
  domain: Domain;
  range: Domain;
}

/** Maps the domain linearly onto the range; a zero-width domain maps to the range's middle. */
export function linearScale(domain: Domain, range: Domain): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  const scale = ((value: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((value - d0) / span) * (r1 - r0))) as Scale;
  scale.domain = domain;
  scale.range = range;
  return scale;
}

/** [min, max] of the finite values; null when there are none. */
export function extent(values: Iterable<number>): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min === Infinity ? null : [min, max];
}

/** A step of 1, 2 or 5 × 10^k that cuts `span` into about `count` pieces. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  if (span / count < 1e-12) return 1e-12;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Rounds away float noise (0.1 + 0.2) to the step's own precision. */
function tidy(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(decimals, 15)));
}

export interface Ticks {
  /** The domain widened to whole steps, so the axis starts and ends on a tick. */
  domain: Domain;
  ticks: number[];
  step: number;
}

/** About `count` evenly spaced round ticks covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { domain: [0, 1], ticks: [0, 1], step: 1 };
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const start = Math.floor(min / step + 1e-9) * step;
  const end = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i += 1) ticks.push(tidy(start + i * step, step));
  return { domain: [tidy(start, step), tidy(end, step)], ticks, step };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const TIME_STEPS = [
  SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY,
];

/** Ticks on round times (epoch ms): whole minutes, hours, or local midnights for days. */
export function timeTicks(min: number, max: number, count = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { domain: [0, DAY], ticks: [0], step: DAY };
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    min -= DAY / 2;
    max += DAY / 2;
  }
  const raw = (max - min) / count;
  const step = TIME_STEPS.find((s) => s >= raw) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks: number[] = [];
  if (step < DAY) {
    // Offset by the local time zone so hour ticks fall on local whole hours.
    const offset = new Date(min).getTimezoneOffset() * MINUTE;
    for (let t = Math.ceil((min - offset) / step) * step + offset; t <= max; t += step) ticks.push(t);
  } else {
    const days = Math.round(step / DAY);
    const first = new Date(min);
    first.setHours(0, 0, 0, 0);
    if (first.getTime() < min) first.setDate(first.getDate() + 1);
    for (const t = first; t.getTime() <= max; t.setDate(t.getDate() + days)) ticks.push(t.getTime());
  }
  return { domain: [min, max], ticks, step };
}

/** A number as a tick label: as many decimals as the step needs, thousands separated. */
export function formatNumber(value: number, step?: number): string {
  if (!Number.isFinite(value)) return "–";
  // Without a step (a tooltip, a table), a tiny value such as a learning rate of 0.00001 keeps
  // its digits instead of rounding to "0".
  if (step === undefined && value !== 0 && Math.abs(value) < 1e-3) return Number(value.toPrecision(3)).toExponential();
  const decimals = step && step > 0 ? Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))) : undefined;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: decimals ?? 0,
    maximumFractionDigits: decimals ?? 3,
  });
}

/** A time as a tick label: a date when ticks are days apart, else a clock time. */
export function formatTime(ms: number, step = DAY): string {
  const date = new Date(ms);
  if (step >= DAY) return date.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  if (step >= MINUTE) return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Full date (and time, unless `dateOnly`) for a tooltip or the data table. */
export function formatDateTime(ms: number, dateOnly = false): string {
  const date = new Date(ms);
  const day = { day: "numeric", month: "short", year: "numeric" } as const;
  if (dateOnly) return date.toLocaleDateString("en-GB", day);
  return date.toLocaleString("en-GB", { ...day, hour: "2-digit", minute: "2-digit" });
}

/** The index in ascending `xs` nearest to `x` (binary search); -1 for an empty list. */
export function nearestIndex(xs: readonly number[], x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
}

/** SVG path data for a polyline through the points; gaps (NaN) start a new segment. */
export function linePath(points: readonly (readonly [number, number])[]): string {
  let path = "";
  let drawing = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      drawing = false;
      continue;
    }
    path += `${drawing ? "L" : "M"}${round(x)},${round(y)}`;
    drawing = true;
  }
  return path;
}

/** A closed band between an upper and a lower line (x ascending). */
export function bandPath(points: readonly (readonly [number, number, number])[]): string {
  const finite = points.filter(([x, lo, hi]) => [x, lo, hi].every(Number.isFinite));
  if (finite.length === 0) return "";
  const upper = finite.map(([x, , hi]) => `${round(x)},${round(hi)}`);
  const lower = finite.map(([x, lo]) => `${round(x)},${round(lo)}`).reverse();
  return `M${upper.join("L")}L${lower.join("L")}Z`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
