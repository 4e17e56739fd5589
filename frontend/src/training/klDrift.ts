/** The chart "KL from the base across rounds": how far each policy round along a lineage has
 * moved from the base model it started from (cumulative drift), beside that round's own step
 * from its parent and its KL budget, which counted from one or the other (its `kl_from`). */

import type { ChartDataRow } from "../shared/ChartDataTable";
import { formatNumber, niceTicks, type Ticks } from "../charts/scale";
import type { PolicyRound } from "./types";

export const KL_DRIFT_TITLE = "KL from the base across rounds";

function nats(value: number | null): string {
  return value === null ? "not measured" : `${formatNumber(Number(value.toFixed(2)))} nats`;
}

/** What the round's budget counted from, in words. */
export function budgetWords(round: PolicyRound): string {
  if (round.kl_budget === null) return "no budget";
  return `${formatNumber(round.kl_budget)} nats from the ${round.kl_from === "base" ? "base" : "parent"}`;
}

/** A y axis from 0 covering every KL and every budget drawn, with a tenth to spare (a budget
 * is never drawn on the top edge, under the axis label). */
export function klAxis(rounds: PolicyRound[]): Ticks {
  const values = rounds.flatMap((r) => [r.kl_to_base, r.kl_to_parent, r.kl_budget]).filter((v): v is number => v !== null && Number.isFinite(v));
  return niceTicks(0, Math.max(1, ...values) * 1.1, 4);
}

/** One sentence for screen readers and the figure's description. */
export function klDriftDescription(rounds: PolicyRound[]): string {
  const measured = rounds.map((r, index) => [index + 1, r.kl_to_base] as const).filter(([, kl]) => kl !== null);
  if (measured.length === 0) return "No round along this lineage measured its KL from the base.";
  const [lastRound, lastKl] = measured[measured.length - 1];
  const [firstRound, firstKl] = measured[0];
  const start = measured.length > 1 ? `, from ${nats(firstKl)} after round ${firstRound}` : "";
  return `KL from the base after round ${lastRound}: ${nats(lastKl)} per answer${start}. Each round's KL from its parent and its budget are drawn beside it.`;
}

export function klDriftRows(rounds: PolicyRound[]): ChartDataRow[] {
  return rounds.map((round, index) => ({
    key: round.run_id,
    name: `Round ${index + 1}: ${round.version.name} (${round.kind.toUpperCase()})`,
    cells: [nats(round.kl_to_base), nats(round.kl_to_parent), budgetWords(round)],
  }));
}
