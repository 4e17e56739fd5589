/**
 * The ranking a rater is building, as pure functions over plain data.
 *
 * Each response (by label) has a rank number or none. Equal numbers are a tie, gaps are
 * allowed (typing 1, 3, 4 ranks three responses in that order), and the submitted tiers are
 * the labels grouped by number, best first. Operations that move responses around
 * (drag and drop, move up/down) renumber the ranking as competition ranks: 1, 2, 2, 4.
 */

export type Label = string;
export type Tiers = Label[][];

export interface Ranking {
  /** Labels in the order the rater sees the responses (A, B, C...). */
  readonly labels: readonly Label[];
  /** Rank number per label; null while the label is not ranked yet. */
  readonly ranks: Readonly<Record<Label, number | null>>;
}

/** Where a dragged response goes: before another one's tier (null: last), or tied with one. */
export type Placement = { before: Label | null } | { tieWith: Label };

export function emptyRanking(labels: readonly Label[]): Ranking {
  return { labels: [...labels], ranks: Object.fromEntries(labels.map((l) => [l, null])) };
}

export function rankOf(ranking: Ranking, label: Label): number | null {
  return ranking.ranks[label] ?? null;
}

/** Ranked labels grouped into tiers, best first; a tier keeps the display order. */
export function tiersOf(ranking: Ranking): Tiers {
  const byRank = new Map<number, Label[]>();
  for (const label of ranking.labels) {
    const rank = rankOf(ranking, label);
    if (rank === null) continue;
    byRank.set(rank, [...(byRank.get(rank) ?? []), label]);
  }
  return [...byRank.keys()].sort((a, b) => a - b).map((rank) => byRank.get(rank)!);
}

export function unrankedOf(ranking: Ranking): Label[] {
  return ranking.labels.filter((label) => rankOf(ranking, label) === null);
}

export function isComplete(ranking: Ranking): boolean {
  return ranking.labels.length > 0 && unrankedOf(ranking).length === 0;
}

/** Give a label a rank number (1..K); a number another label has makes a tie. */
export function setRank(ranking: Ranking, label: Label, rank: number | null): Ranking {
  if (!ranking.labels.includes(label)) return ranking;
  if (rank !== null && (!Number.isInteger(rank) || rank < 1 || rank > ranking.labels.length)) {
    return ranking;
  }
  return { ...ranking, ranks: { ...ranking.ranks, [label]: rank } };
}

/**
 * Tie a label with the response ranked just above it. An unranked label joins the lowest
 * tier; the best-ranked label has nothing above it and stays where it is.
 */
export function tieWithAbove(ranking: Ranking, label: Label): Ranking {
  const own = rankOf(ranking, label);
  const others = ranking.labels
    .filter((other) => other !== label)
    .map((other) => rankOf(ranking, other))
    .filter((rank): rank is number => rank !== null);
  const above = own === null ? others : others.filter((rank) => rank < own);
  if (above.length === 0) return ranking;
  return setRank(ranking, label, Math.max(...above));
}

/** Rebuild rank numbers from tiers: competition ranking (1, 2, 2, 4). */
export function fromTiers(labels: readonly Label[], tiers: Tiers): Ranking {
  const ranks: Record<Label, number | null> = Object.fromEntries(labels.map((l) => [l, null]));
  let position = 1;
  for (const tier of tiers) {
    const members = tier.filter((label) => labels.includes(label));
    if (members.length === 0) continue;
    for (const label of members) ranks[label] = position;
    position += members.length;
  }
  return { labels: [...labels], ranks };
}

function withoutLabel(tiers: Tiers, label: Label): Tiers {
  return tiers.map((tier) => tier.filter((l) => l !== label)).filter((tier) => tier.length > 0);
}

/** Drag and drop: put a label before another label's tier, at the end, or tied with one. */
export function place(ranking: Ranking, label: Label, placement: Placement): Ranking {
  if (!ranking.labels.includes(label)) return ranking;
  const tiers = withoutLabel(tiersOf(ranking), label);
  if ("tieWith" in placement) {
    if (placement.tieWith === label) return ranking;
    const target = tiers.findIndex((tier) => tier.includes(placement.tieWith));
    if (target < 0) return ranking;
    tiers[target] = [...tiers[target], label];
  } else {
    const target =
      placement.before === null ? -1 : tiers.findIndex((tier) => tier.includes(placement.before!));
    tiers.splice(target < 0 ? tiers.length : target, 0, [label]);
  }
  return fromTiers(ranking.labels, tiers);
}

/**
 * Move a ranked label one place up (-1) or down (+1). A label tied with others first leaves
 * its tier on that side; a label alone jumps over the neighbouring tier.
 */
export function move(ranking: Ranking, label: Label, delta: -1 | 1): Ranking {
  const tiers = tiersOf(ranking);
  const index = tiers.findIndex((tier) => tier.includes(label));
  if (index < 0) return ranking;
  const rest = withoutLabel(tiers, label);
  const tiedWithOthers = tiers[index].length > 1;
  let target: number;
  if (tiedWithOthers) target = delta < 0 ? index : index + 1;
  else target = index + delta;
  if (target < 0 || target > rest.length) return ranking;
  rest.splice(target, 0, [label]);
  return fromTiers(ranking.labels, rest);
}

/** The ranking the API takes: every label once, in tiers, best first. */
export function submissionTiers(ranking: Ranking): Tiers {
  if (!isComplete(ranking)) throw new Error("The ranking is not complete.");
  return tiersOf(ranking);
}

const ORDINALS = ["th", "st", "nd", "rd"];

export function ordinal(n: number): string {
  const tail = n % 100;
  const suffix = tail >= 11 && tail <= 13 ? "th" : (ORDINALS[n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** How a label's place reads to a person: "1st", "tied 2nd", "not ranked". */
export function describeRank(ranking: Ranking, label: Label): string {
  const rank = rankOf(ranking, label);
  if (rank === null) return "not ranked";
  const tied = ranking.labels.some((other) => other !== label && rankOf(ranking, other) === rank);
  return tied ? `tied ${ordinal(rank)}` : ordinal(rank);
}

/** Restore a saved ranking onto the labels shown now, ignoring anything that no longer fits. */
export function restoreRanking(
  labels: readonly Label[],
  saved: Readonly<Record<string, unknown>> | undefined,
): Ranking {
  let ranking = emptyRanking(labels);
  for (const label of labels) {
    const rank = saved?.[label];
    if (typeof rank === "number") ranking = setRank(ranking, label, rank);
  }
  return ranking;
}
