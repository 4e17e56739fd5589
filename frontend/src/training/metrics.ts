/** A run's metric series as the dashboard keeps them: fetched once, then only the new steps
 * appended, and grouped into the charts each kind of run is read by. */

import type { MetricPoint, MetricSeries, RunKind } from "./types";

/** The highest step held in any series (what `after_step` asks past); 0 for none. */
export function lastStep(series: MetricSeries): number {
  let last = 0;
  for (const points of Object.values(series)) {
    for (const [step] of points) if (step > last) last = step;
  }
  return last;
}

/** The series with `incoming` appended: only points past each series' own last step are kept
 * (a repeated or late answer adds nothing twice), in step order. Series that did not change
 * keep their identity, so the charts they feed do not redraw. */
export function mergeSeries(current: MetricSeries, incoming: MetricSeries): MetricSeries {
  let changed = false;
  const merged: MetricSeries = { ...current };
  for (const [name, points] of Object.entries(incoming)) {
    const held = current[name] ?? [];
    const after = held.length > 0 ? held[held.length - 1][0] : -Infinity;
    const fresh = points
      .filter((point): point is MetricPoint => Number.isFinite(point[0]) && Number.isFinite(point[1]) && point[0] > after)
      .sort((a, b) => a[0] - b[0])
      .filter((point, index, list) => index === 0 || point[0] !== list[index - 1][0]);
    if (fresh.length === 0 && name in current) continue;
    merged[name] = [...held, ...fresh];
    changed = true;
  }
  return changed ? merged : current;
}

export interface ChartSpec {
  title: string;
  /** The series drawn, in order; a name with no data yet still gets its legend entry. */
  names: string[];
  yLabel: string;
  /** Rates are drawn on 0..1. */
  isRate?: boolean;
  description: string;
}

/** GRPO's and RLOO's curves: the same names as PPO's, with a fixed KL penalty. */
function groupRoundCharts(method: string, baseline: string): ChartSpec[] {
  return [
    { title: "Reward", names: ["train/reward_mean"], yLabel: "Mean reward", description: `The reward model's mean score of the policy's answers; it should rise. Each answer is scored against ${baseline}.` },
    { title: "KL from the reference", names: ["train/kl"], yLabel: "KL", description: `How far the policy has moved from its starting point; ${method} penalises it with a fixed β (kl_coef).` },
    { title: "Entropy", names: ["train/entropy"], yLabel: "Entropy", description: "How varied the policy's next-token choices are; a collapse toward zero means it repeats itself." },
    { title: "Response length", names: ["train/response_length"], yLabel: "Tokens", description: "The mean length of the policy's answers, in tokens." },
    {
      title: "Groups with no signal",
      names: ["train/frac_reward_zero_std"],
      yLabel: "Share",
      isRate: true,
      description: "The share of prompts whose answers all scored the same: they teach nothing this step.",
    },
  ];
}

const CHARTS: Record<RunKind, ChartSpec[]> = {
  reward: [
    { title: "Loss", names: ["train/loss"], yLabel: "Loss", description: "The reward model's training loss per step; it should fall." },
    {
      title: "Accuracy",
      names: ["train/accuracy", "validation/accuracy"],
      yLabel: "Accuracy",
      isRate: true,
      description: "How often the reward model scores the preferred answer higher, on training batches and on held-out pairs.",
    },
  ],
  ppo: [
    { title: "Reward", names: ["train/reward_mean"], yLabel: "Mean reward", description: "The reward model's mean score of the policy's answers; it should rise." },
    { title: "KL from the reference", names: ["train/kl"], yLabel: "KL", description: "How far the policy has moved from its starting point; the KL budget keeps it near the target." },
    { title: "Entropy", names: ["train/entropy"], yLabel: "Entropy", description: "How varied the policy's next-token choices are; a collapse toward zero means it repeats itself." },
    { title: "Response length", names: ["train/response_length"], yLabel: "Tokens", description: "The mean length of the policy's answers, in tokens." },
  ],
  dpo: [
    { title: "Loss", names: ["train/loss"], yLabel: "Loss", description: "The DPO loss per step; it should fall." },
    {
      title: "Preference accuracy",
      names: ["train/rewards/accuracies"],
      yLabel: "Accuracy",
      isRate: true,
      description: "How often the policy's implied reward prefers the chosen answer.",
    },
    { title: "Reward margin", names: ["train/rewards/margins"], yLabel: "Margin", description: "The implied reward of chosen minus rejected answers." },
  ],
  grpo: groupRoundCharts("GRPO", "its group's mean, over the group's spread"),
  rloo: groupRoundCharts("RLOO", "the mean of the other answers to its prompt"),
  generate: [],
  evaluate: [],
  judge: [],
  arena: [],
};

/** The kind's own charts, then one chart for each other series the run reported. */
export function chartsFor(kind: RunKind, names: readonly string[]): ChartSpec[] {
  const planned = CHARTS[kind] ?? [];
  const known = new Set(planned.flatMap((chart) => chart.names));
  const others = [...names]
    .filter((name) => !known.has(name))
    .sort()
    .map((name) => ({ title: name, names: [name], yLabel: name.split("/").pop() ?? name, description: `The run's ${name} per step.` }));
  return [...planned, ...others];
}

export interface ReportedOnce {
  name: string;
  step: number;
  value: number;
}

/** Charts worth drawing, and the values that are no curve: a series other than the kind's own
 * with a single point (it becomes a chart from its second), and, once the run has ended, every
 * series of a chart in which none has two points (an end-of-run value, not a "curve" of one
 * dot). While the run is active the kind's own charts stay, to fill in as it trains. */
export function splitSingleValues(
  charts: readonly ChartSpec[],
  series: MetricSeries,
  kind: RunKind,
  active: boolean,
): { charts: ChartSpec[]; once: ReportedOnce[] } {
  const planned = new Set((CHARTS[kind] ?? []).map((chart) => chart.title));
  const drawn: ChartSpec[] = [];
  const once: ReportedOnce[] = [];
  for (const chart of charts) {
    const counts = chart.names.map((name) => series[name]?.length ?? 0);
    const curve = counts.some((count) => count >= 2);
    const keep = curve || (planned.has(chart.title) && (active || counts.every((count) => count === 0)));
    if (keep) {
      drawn.push(chart);
      continue;
    }
    for (const name of chart.names) {
      const point = series[name]?.[0];
      if (point) once.push({ name, step: point[0], value: point[1] });
    }
  }
  return { charts: drawn, once };
}

/** The last value of a series, for the summary line beside a chart. */
export function latestValue(points: readonly MetricPoint[] | undefined): number | null {
  return points && points.length > 0 ? points[points.length - 1][1] : null;
}
