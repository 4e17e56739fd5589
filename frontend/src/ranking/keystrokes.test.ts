/**
 * A figure for the closing note: keystrokes to rank a K = 4 task by keyboard, averaged over
 * every possible ranking with ties (the 75 weak orders of four responses), using the keys a
 * rater types: for each response in turn, the digit of its place, then Enter.
 */
import { describe, expect, it } from "vitest";
import { pressKeys as press } from "./keyboard";
import { emptyRanking, tiersOf, type Tiers } from "./ranking";

const LABELS = ["A", "B", "C", "D"];

/** Every ordered partition of the labels into tiers. */
function weakOrders(labels: string[]): Tiers[] {
  if (labels.length === 0) return [[]];
  const result: Tiers[] = [];
  const n = labels.length;
  for (let mask = 1; mask < 1 << n; mask += 1) {
    const first = labels.filter((_, i) => mask & (1 << i));
    const rest = labels.filter((_, i) => !(mask & (1 << i)));
    for (const tail of weakOrders(rest)) result.push([first, ...tail]);
  }
  return result;
}

function keysFor(target: Tiers): string[] {
  const place: Record<string, number> = {};
  let position = 1;
  for (const tier of target) {
    for (const label of tier) place[label] = position;
    position += tier.length;
  }
  return [...LABELS.map((label) => String(place[label])), "Enter"];
}

describe("keystrokes to rank K = 4", () => {
  it("every ranking, ties included, takes K digits and Enter", () => {
    const orders = weakOrders(LABELS);
    expect(orders).toHaveLength(75);
    let total = 0;
    for (const target of orders) {
      const keys = keysFor(target);
      const { board, effects } = press({ ranking: emptyRanking(LABELS), focus: 0, choice: null }, keys);
      expect(tiersOf(board.ranking)).toEqual(target);
      expect(effects).toEqual(["submit"]);
      total += keys.length;
    }
    const mean = total / orders.length;
    console.log(`FIGURE keystrokes_k4_mean=${mean.toFixed(2)} over ${orders.length} rankings (ties included)`);
    expect(mean).toBe(5);
  });
});
