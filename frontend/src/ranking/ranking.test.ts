import { describe, expect, it } from "vitest";
import {
  describeRank,
  emptyRanking,
  fromTiers,
  isComplete,
  move,
  ordinal,
  place,
  restoreRanking,
  setRank,
  submissionTiers,
  tieWithAbove,
  tiersOf,
  unrankedOf,
  type Ranking,
} from "./ranking";

const ABCD = ["A", "B", "C", "D"];

function ranked(ranks: Record<string, number>): Ranking {
  return Object.entries(ranks).reduce((r, [label, rank]) => setRank(r, label, rank), emptyRanking(ABCD));
}

describe("tiers", () => {
  it("starts with nothing ranked", () => {
    const ranking = emptyRanking(ABCD);
    expect(tiersOf(ranking)).toEqual([]);
    expect(unrankedOf(ranking)).toEqual(ABCD);
    expect(isComplete(ranking)).toBe(false);
  });

  it("groups labels by rank number, best first", () => {
    expect(tiersOf(ranked({ A: 3, B: 1, C: 4, D: 2 }))).toEqual([["B"], ["D"], ["A"], ["C"]]);
  });

  it("keeps the order for gaps in the numbers", () => {
    expect(tiersOf(ranked({ A: 4, B: 1, C: 3 }))).toEqual([["B"], ["C"], ["A"]]);
  });

  it("submits only a complete ranking", () => {
    expect(() => submissionTiers(ranked({ A: 1, B: 2 }))).toThrow();
    expect(submissionTiers(ranked({ A: 2, B: 1, C: 2, D: 4 }))).toEqual([["B"], ["A", "C"], ["D"]]);
  });

  it("refuses ranks outside 1..K and unknown labels", () => {
    const ranking = emptyRanking(ABCD);
    expect(setRank(ranking, "A", 5)).toBe(ranking);
    expect(setRank(ranking, "A", 0)).toBe(ranking);
    expect(setRank(ranking, "A", 1.5)).toBe(ranking);
    expect(setRank(ranking, "E", 1)).toBe(ranking);
  });

  it("renumbers from tiers as competition ranks", () => {
    expect(fromTiers(ABCD, [["C"], ["A", "D"], ["B"]]).ranks).toEqual({ A: 2, B: 4, C: 1, D: 2 });
  });
});

describe("ties", () => {
  it("the same number twice is a tie, in display order", () => {
    const ranking = ranked({ C: 2, A: 2, B: 1, D: 3 });
    expect(tiersOf(ranking)).toEqual([["B"], ["A", "C"], ["D"]]);
    expect(describeRank(ranking, "A")).toBe("tied 2nd");
    expect(describeRank(ranking, "B")).toBe("1st");
  });

  it("ties a ranked label with the one just above it", () => {
    const ranking = tieWithAbove(ranked({ A: 1, B: 2, C: 3, D: 4 }), "C");
    expect(tiersOf(ranking)).toEqual([["A"], ["B", "C"], ["D"]]);
  });

  it("ties an unranked label with the lowest tier", () => {
    expect(tiersOf(tieWithAbove(ranked({ A: 1, B: 2 }), "C"))).toEqual([["A"], ["B", "C"]]);
  });

  it("leaves the best label alone, and does nothing with nothing ranked", () => {
    const top = ranked({ A: 1, B: 2 });
    expect(tieWithAbove(top, "A")).toBe(top);
    const empty = emptyRanking(ABCD);
    expect(tieWithAbove(empty, "A")).toBe(empty);
  });

  it("a tied label tied again joins the tier above", () => {
    const ranking = tieWithAbove(ranked({ A: 1, B: 2, C: 2, D: 4 }), "C");
    expect(tiersOf(ranking)).toEqual([["A", "C"], ["B"], ["D"]]);
  });
});

describe("drag and drop placement", () => {
  it("inserts before another label's tier or at the end", () => {
    let ranking = emptyRanking(ABCD);
    ranking = place(ranking, "C", { before: null });
    ranking = place(ranking, "A", { before: "C" });
    ranking = place(ranking, "B", { before: null });
    expect(tiersOf(ranking)).toEqual([["A"], ["C"], ["B"]]);
  });

  it("drops onto a tier to tie, renumbering", () => {
    const ranking = place(ranked({ A: 1, B: 2, C: 3 }), "D", { tieWith: "B" });
    expect(ranking.ranks).toEqual({ A: 1, B: 2, C: 4, D: 2 });
  });

  it("moves a ranked label down past others", () => {
    const ranking = place(ranked({ A: 1, B: 2, C: 3, D: 4 }), "A", { before: null });
    expect(tiersOf(ranking)).toEqual([["B"], ["C"], ["D"], ["A"]]);
  });

  it("ignores dropping a label onto itself", () => {
    const ranking = ranked({ A: 1 });
    expect(place(ranking, "A", { tieWith: "A" })).toBe(ranking);
  });
});

describe("move up and down", () => {
  it("swaps a lone label with the neighbouring tier", () => {
    expect(tiersOf(move(ranked({ A: 1, B: 2, C: 3 }), "C", -1))).toEqual([["A"], ["C"], ["B"]]);
    expect(tiersOf(move(ranked({ A: 1, B: 2, C: 3 }), "A", 1))).toEqual([["B"], ["A"], ["C"]]);
  });

  it("takes a tied label out of its tier on that side first", () => {
    const tied = ranked({ A: 1, B: 2, C: 2 });
    expect(tiersOf(move(tied, "C", -1))).toEqual([["A"], ["C"], ["B"]]);
    expect(tiersOf(move(tied, "B", 1))).toEqual([["A"], ["C"], ["B"]]);
  });

  it("stops at the ends and ignores unranked labels", () => {
    const ranking = ranked({ A: 1, B: 2 });
    expect(move(ranking, "A", -1)).toBe(ranking);
    expect(move(ranking, "C", 1)).toBe(ranking);
  });
});

describe("restore and words", () => {
  it("restores saved ranks onto the labels shown, ignoring what does not fit", () => {
    const ranking = restoreRanking(["A", "B", "C"], { A: 2, B: "x", C: 9, Z: 1 });
    expect(ranking.ranks).toEqual({ A: 2, B: null, C: null });
  });

  it("writes ordinals", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22].map(ordinal)).toEqual([
      "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd",
    ]);
  });
});
