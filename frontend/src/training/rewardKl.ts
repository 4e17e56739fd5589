/** The pure side of the chart "Reward against KL" (docs/training.md, "Reward-hacking watch"):
 * a policy round's steps (PPO, GRPO, RLOO) as (KL, reward under its own reward model, reward under the second
 * model when the run names one), the over-optimisation curve of Gao et al. (2022). */

import type { ChartDataRow } from "../shared/ChartDataTable";
import { formatNumber, niceTicks, type Ticks } from "../charts/scale";
import type { Watch } from "./types";

export const REWARD_KL_TITLE = "Reward against KL";

export interface RewardKlPoint {
  step: number;
  kl: number;
  reward: number;
  /** The second reward model's mean reward at this step; null without one. */
  check: number | null;
}

/** One point per step, in step order; the second model's rewards are matched by step
 * (both lists hold one entry per step, from the same per-step metrics). */
export function rewardKlPoints(watch: Pick<Watch, "reward_kl" | "check_reward_kl">): RewardKlPoint[] {
  const checks = watch.check_reward_kl ?? [];
  const matched = checks.length === watch.reward_kl.length;
  return watch.reward_kl.map(([kl, reward], index) => ({
    step: index + 1,
    kl,
    reward,
    check: matched ? checks[index][1] : null,
  }));
}

export function hasCheck(points: RewardKlPoint[]): boolean {
  return points.some((point) => point.check !== null);
}

function finite(values: (number | null)[]): number[] {
  return values.filter((value): value is number => value !== null && Number.isFinite(value));
}

/** KL ticks from 0 (the parent itself) to the largest of the steps' KL and the budget. */
export function klTicks(points: RewardKlPoint[], budget: number | null): Ticks {
  const values = finite([...points.map((point) => point.kl), budget]);
  // A step's sampled KL estimate can come out below zero; the axis reaches it, or its point
  // would be drawn over the reward axis' labels.
  return niceTicks(Math.min(0, ...values), Math.max(0, ...values), 5);
}

/** Round ticks over one reward model's means (each model on its own scale: their units differ). */
export function rewardTicks(values: (number | null)[]): Ticks {
  const kept = finite(values);
  if (kept.length === 0) return niceTicks(0, 1, 4);
  return niceTicks(Math.min(...kept), Math.max(...kept), 4);
}

function reading(value: number | null): string {
  return value === null || !Number.isFinite(value) ? "–" : formatNumber(Number(value.toFixed(3)));
}

/** The chart's numbers for its hidden table: one row per step. */
export function rewardKlRows(points: RewardKlPoint[]): ChartDataRow[] {
  const withCheck = hasCheck(points);
  return points.map((point) => ({
    key: point.step,
    name: `Step ${point.step}`,
    cells: [reading(point.kl), reading(point.reward), ...(withCheck ? [reading(point.check)] : [])],
  }));
}

/** The chart's text alternative: what is drawn, the budget, and where the curves ended. */
/** Where a round's step KL counted from: its parent, or the lineage's base (`kl_from`). */
export function klFromWords(klFrom: string | undefined): string {
  return klFrom === "base" ? "KL from the base" : "KL from the parent";
}

export function rewardKlSummary(points: RewardKlPoint[], budget: number | null, klFrom?: string): string {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return "No steps logged.";
  const budgetWords = budget === null ? "no KL budget" : `the KL budget of ${formatNumber(budget)} nats dashed`;
  const check =
    last.check === null || first.check === null
      ? ""
      : ` The second reward model's mean reward, on its own scale at the right, went from ${reading(first.check)} to ${reading(last.check)}.`;
  return `${points.length} step${points.length === 1 ? "" : "s"}, ${klFromWords(klFrom)} (nats per answer) across, ${budgetWords}. The round's reward model's mean reward went from ${reading(first.reward)} to ${reading(last.reward)} while the KL went from ${reading(first.kl)} to ${reading(last.kl)}.${check}`;
}
