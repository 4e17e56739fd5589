/** The reward-hacking watch of a PPO or DPO round (docs/training.md): its figures in words,
 * and the pure geometry of the chart "Length preference: raters, reward model, policy drift". */

import type { ChartDataRow } from "../shared/ChartDataTable";
import { formatNumber, niceTicks, type Ticks } from "../charts/scale";
import type { LengthPreference, Watch, WatchWarningCode } from "./types";

export const Z95 = 1.959964;

export const WARNING_TITLES: Record<WatchWarningCode, string> = {
  length_drift: "Answer length drifted",
  kl_over_budget: "KL over its budget",
  second_reward_disagrees: "The second reward model disagrees",
};

function fixed(value: number, digits = 2): string {
  return formatNumber(Number(value.toFixed(digits)));
}

/** The watch's figures as [term, words]; what the round did not measure is left out. */
export function watchFacts(watch: Watch): [string, string][] {
  const facts: [string, string][] = [];
  if (watch.prompts) {
    const held = watch.held_out_prompts ?? 0;
    facts.push(["Prompts watched", `${watch.prompts} (${held ? `${held} never trained on` : "all trained on"})`]);
  }
  if (watch.length_chars !== null && watch.parent_length_chars !== null) {
    const ratio = watch.length_ratio === null ? "" : ` (${fixed(watch.length_ratio)}×)`;
    facts.push(["Answer length", `${fixed(watch.length_chars, 0)} characters against the parent's ${fixed(watch.parent_length_chars, 0)}${ratio}`]);
  }
  const fromBase = watch.kl_from === "base";
  const budget = watch.kl_budget === null ? "no budget" : `budget ${formatNumber(watch.kl_budget)}`;
  const where = watch.kl_source === "last step" ? "at the last step" : "on the watched answers";
  if (watch.kl !== null) {
    facts.push(["KL from the parent", `${fixed(watch.kl)} nats per answer, ${where}${fromBase ? "" : ` (${budget})`}`]);
  }
  if (watch.kl_to_base_error) facts.push(["KL from the base", `not measured: ${watch.kl_to_base_error}`]);
  else if (watch.kl_to_base !== null && watch.kl_to_base !== undefined && (fromBase || watch.kl_to_base !== watch.kl)) {
    facts.push(["KL from the base", `${fixed(watch.kl_to_base)} nats per answer, the drift over every round so far${fromBase ? ` (${budget}, counted from the base)` : ""}`]);
  }
  if (watch.reward_gain !== null) facts.push(["Reward gain over the round", `${watch.reward_gain >= 0 ? "+" : ""}${fixed(watch.reward_gain, 3)}`]);
  if (watch.check_win_rate !== null) {
    const se = watch.check_win_rate_se === null ? "" : ` (± ${fixed(watch.check_win_rate_se * 100, 0)})`;
    facts.push(["Win rate under the second reward model", `${fixed(watch.check_win_rate * 100, 0)} % of prompts won against the parent${se}`]);
  }
  if (watch.seconds !== null && watch.seconds !== undefined) facts.push(["What the watch cost", `${fixed(watch.seconds, 0)} s`]);
  return facts;
}

export interface Span {
  value: number;
  low: number;
  high: number;
}

/** A slope with its 95 % interval (none without a standard error); null when unknown. */
export function slopeSpan(slope: number | null, se: number | null): Span | null {
  if (slope === null || !Number.isFinite(slope)) return null;
  const half = se !== null && Number.isFinite(se) ? Z95 * se : 0;
  return { value: slope, low: slope - half, high: slope + half };
}

/** Round ticks for the slope panel: covering 0, the raters' interval and every round's. */
export function slopeTicks(chart: LengthPreference): Ticks {
  const spans = [slopeSpan(chart.raters_slope, chart.raters_slope_se), ...chart.rounds.map((r) => slopeSpan(r.reward_slope, r.reward_slope_se))];
  const values = [0, ...spans.flatMap((span) => (span ? [span.low, span.high] : []))];
  return niceTicks(Math.min(...values), Math.max(...values), 4);
}

export interface RatioAxis {
  /** In log2 units: the ratio 1 is 0, twice as long is 1. */
  domain: [number, number];
  /** In ratio units: the warning thresholds, 1, and the powers of two in between. */
  ticks: number[];
}

/** A log axis for "policy length ÷ parent's": every ratio, 1 and both thresholds in view. */
export function ratioAxis(ratios: (number | null)[], factor: number): RatioAxis {
  const logs = ratios.filter((r): r is number => r !== null && r > 0 && Number.isFinite(r)).map(Math.log2);
  const edge = Math.log2(factor);
  const low = Math.min(-edge, ...logs) - 0.15;
  const high = Math.max(edge, ...logs) + 0.15;
  const powers = [];
  for (let k = Math.ceil(low); k <= Math.floor(high); k += 1) if (k !== 0) powers.push(2 ** k);
  const ticks = [...new Set([1 / factor, 1, factor, ...powers])].sort((a, b) => a - b);
  return { domain: [low, high], ticks };
}

/** The centres of `count` equal bands across [left, right]. */
export function bandCentres(count: number, left: number, right: number): number[] {
  const width = (right - left) / Math.max(1, count);
  return Array.from({ length: count }, (_, index) => left + width * (index + 0.5));
}

export function formatSpan(span: Span | null): string {
  if (!span) return "not known";
  const value = fixed(span.value);
  return span.low === span.high ? value : `${value} (${fixed(span.low)} to ${fixed(span.high)})`;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? "not watched" : `${fixed(ratio)}×`;
}

/** The chart's numbers for its hidden table: the raters, then each round. */
export function lengthPreferenceRows(chart: LengthPreference): ChartDataRow[] {
  const raters: ChartDataRow = {
    key: "raters",
    name: `Raters${chart.campaign ? ` (${chart.campaign.name})` : ""}`,
    cells: [formatSpan(slopeSpan(chart.raters_slope, chart.raters_slope_se)), "–", "–"],
  };
  const rounds = chart.rounds.map((round, index) => ({
    key: round.run_id,
    name: `Round ${index + 1}: ${round.version.name} (${round.kind.toUpperCase()})`,
    cells: [
      round.reward_version ? `${formatSpan(slopeSpan(round.reward_slope, round.reward_slope_se))}, ${round.reward_version.name}` : "no reward model",
      formatRatio(round.length_ratio),
      round.warnings.length ? round.warnings.map((code) => WARNING_TITLES[code]).join("; ") : "none",
    ],
  }));
  return [raters, ...rounds];
}
