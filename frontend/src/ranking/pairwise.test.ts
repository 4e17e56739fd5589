import { describe, expect, it } from "vitest";
import { isPairChoice, pairScale, pairTiers } from "./pairwise";

describe("pairwise scale", () => {
  it("runs from A much better to B much better with a tie in the middle", () => {
    expect(pairScale("A", "B").map((p) => p.text)).toEqual([
      "A much better",
      "A better",
      "A slightly better",
      "About the same",
      "B slightly better",
      "B better",
      "B much better",
    ]);
  });

  it("turns a choice into tiers: winner first, or one tier for a tie", () => {
    expect(pairTiers({ winner: "B", strength: "slightly_better" }, ["A", "B"])).toEqual([["B"], ["A"]]);
    expect(pairTiers({ winner: null, strength: "about_same" }, ["A", "B"])).toEqual([["A", "B"]]);
  });

  it("validates stored choices", () => {
    expect(isPairChoice({ winner: "A", strength: "better" })).toBe(true);
    expect(isPairChoice({ winner: null, strength: "about_same" })).toBe(true);
    expect(isPairChoice({ winner: "A", strength: "about_same" })).toBe(false);
    expect(isPairChoice({ winner: null, strength: "better" })).toBe(false);
    expect(isPairChoice({ winner: "A", strength: "huge" })).toBe(false);
  });
});
