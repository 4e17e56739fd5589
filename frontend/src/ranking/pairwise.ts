/**
 * Pairwise campaigns: the rater picks one point on a seven-point scale from "A much better"
 * to "B much better"; the middle point is "about the same" (a tie).
 */

import type { Label, Tiers } from "./ranking";

export type Strength = "much_better" | "better" | "slightly_better" | "about_same";

export interface PairChoice {
  /** The better label, or null for "about the same". */
  readonly winner: Label | null;
  readonly strength: Strength;
}

export interface ScalePoint extends PairChoice {
  /** The digit key that picks this point. */
  readonly key: string;
  readonly text: string;
}

const STRENGTH_TEXT: Record<Strength, string> = {
  much_better: "much better",
  better: "better",
  slightly_better: "slightly better",
  about_same: "about the same",
};

/** The scale, left (first label much better) to right (second label much better). */
export function pairScale(first: Label, second: Label): ScalePoint[] {
  const side = (winner: Label, strength: Strength) => ({
    winner,
    strength,
    text: `${winner} ${STRENGTH_TEXT[strength]}`,
  });
  const points = [
    side(first, "much_better"),
    side(first, "better"),
    side(first, "slightly_better"),
    { winner: null, strength: "about_same" as const, text: "About the same" },
    side(second, "slightly_better"),
    side(second, "better"),
    side(second, "much_better"),
  ];
  return points.map((point, index) => ({ ...point, key: String(index + 1) }));
}

export function sameChoice(a: PairChoice | null, b: PairChoice | null): boolean {
  return a !== null && b !== null && a.winner === b.winner && a.strength === b.strength;
}

/** The tiers a pairwise choice means: the winner first, or one tier for a tie. */
export function pairTiers(choice: PairChoice, labels: readonly Label[]): Tiers {
  if (choice.winner === null) return [[...labels]];
  const loser = labels.filter((label) => label !== choice.winner);
  return [[choice.winner], loser];
}

export function isPairChoice(value: unknown): value is PairChoice {
  if (typeof value !== "object" || value === null) return false;
  const { winner, strength } = value as Record<string, unknown>;
  return (
    (winner === null || typeof winner === "string") &&
    typeof strength === "string" &&
    strength in STRENGTH_TEXT &&
    (winner === null) === (strength === "about_same")
  );
}
