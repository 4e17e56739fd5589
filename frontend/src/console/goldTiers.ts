/**
 * The gold ranking editor's logic. Responses get letters in the order the task lists them and
 * the annotate page's ranking functions (ranking/ranking.ts) do the moving and tying; this
 * module maps letters to response ids and back, and answers what the buttons may do.
 */

import { describeRank, fromTiers, move, rankOf, tieWithAbove, tiersOf, type Label, type Ranking } from "../ranking/ranking";

export interface TaskResponseRef {
  id: number;
}

/** A, B, C... for the task's responses, in their listed order. */
export function labelsFor(responses: readonly TaskResponseRef[]): Label[] {
  return responses.map((_, index) => String.fromCharCode(65 + index));
}

export function idsByLabel(responses: readonly TaskResponseRef[]): Map<Label, number> {
  const labels = labelsFor(responses);
  return new Map(responses.map((response, index) => [labels[index], response.id]));
}

/** The saved gold ranking, or one response per tier in listed order for a new one. Ids the
 * task no longer has are ignored; responses the saved ranking lacks go last, one per tier. */
export function startRanking(responses: readonly TaskResponseRef[], saved: readonly (readonly number[])[] | null): Ranking {
  const labels = labelsFor(responses);
  const labelOf = new Map(responses.map((response, index) => [response.id, labels[index]]));
  const tiers = (saved ?? [])
    .map((tier) => tier.map((id) => labelOf.get(id)).filter((label): label is Label => label !== undefined))
    .filter((tier) => tier.length > 0);
  const placed = new Set(tiers.flat());
  const rest = labels.filter((label) => !placed.has(label)).map((label) => [label]);
  return fromTiers(labels, [...tiers, ...rest]);
}

/** The editor's list, best first (tied responses next to each other). */
export function orderedLabels(ranking: Ranking): Label[] {
  return tiersOf(ranking).flat();
}

/** Shares its tier with the response listed just above it. */
export function isTiedWithAbove(ranking: Ranking, label: Label): boolean {
  const order = orderedLabels(ranking);
  const index = order.indexOf(label);
  return index > 0 && rankOf(ranking, order[index - 1]) === rankOf(ranking, label);
}

export function canMove(ranking: Ranking, label: Label, delta: -1 | 1): boolean {
  return move(ranking, label, delta) !== ranking;
}

/** Tie with the response above, or (already tied) take it out of the tier, just below it. */
export function toggleTie(ranking: Ranking, label: Label): Ranking {
  return isTiedWithAbove(ranking, label) ? move(ranking, label, 1) : tieWithAbove(ranking, label);
}

export { move as moveResponse };

/** The PUT body: tiers of response ids, best first. */
export function goldPayload(ranking: Ranking, ids: Map<Label, number>): { ranking: number[][] } {
  return { ranking: tiersOf(ranking).map((tier) => tier.map((label) => ids.get(label) as number)) };
}

/** "A, then B = C, then D": the whole order in one line (for the live region and lists). */
export function describeOrder(ranking: Ranking): string {
  return tiersOf(ranking)
    .map((tier) => tier.join(" = "))
    .join(", then ");
}

/** A saved gold ranking in letters, for the task list: "B, then A = C". */
export function describeGold(responses: readonly TaskResponseRef[], gold: readonly (readonly number[])[] | null): string {
  if (!gold || gold.length === 0) return "";
  return describeOrder(startRanking(responses, gold));
}

/** "1st", "tied 2nd": a response's place in words. */
export function placeOf(ranking: Ranking, label: Label): string {
  return describeRank(ranking, label);
}
