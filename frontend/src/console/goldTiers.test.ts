import { describe, expect, it } from "vitest";
import { tiersOf } from "../ranking/ranking";
import {
  canMove,
  describeGold,
  describeOrder,
  goldPayload,
  idsByLabel,
  isTiedWithAbove,
  labelsFor,
  moveResponse,
  orderedLabels,
  placeOf,
  startRanking,
  toggleTie,
} from "./goldTiers";

const responses = [{ id: 40 }, { id: 41 }, { id: 42 }, { id: 43 }];

describe("startRanking", () => {
  it("starts a new gold ranking with one response per tier, in listed order", () => {
    const ranking = startRanking(responses, null);
    expect(labelsFor(responses)).toEqual(["A", "B", "C", "D"]);
    expect(tiersOf(ranking)).toEqual([["A"], ["B"], ["C"], ["D"]]);
  });

  it("restores a saved ranking by response id, ties included", () => {
    const ranking = startRanking(responses, [[42], [40, 43], [41]]);
    expect(orderedLabels(ranking)).toEqual(["C", "A", "D", "B"]);
    expect(placeOf(ranking, "D")).toBe("tied 2nd");
    expect(describeGold(responses, [[42], [40, 43], [41]])).toBe("C, then A = D, then B");
  });

  it("ignores ids the task no longer has and puts missing responses last", () => {
    expect(tiersOf(startRanking(responses, [[99], [41]]))).toEqual([["B"], ["A"], ["C"], ["D"]]);
  });
});

describe("editing", () => {
  it("moves a response up and down, not past either end", () => {
    let ranking = startRanking(responses, null);
    expect(canMove(ranking, "A", -1)).toBe(false);
    expect(canMove(ranking, "D", 1)).toBe(false);
    ranking = moveResponse(ranking, "C", -1);
    expect(orderedLabels(ranking)).toEqual(["A", "C", "B", "D"]);
    ranking = moveResponse(ranking, "A", 1);
    expect(orderedLabels(ranking)).toEqual(["C", "A", "B", "D"]);
  });

  it("ties a response with the one above, and the same button unties it again", () => {
    let ranking = startRanking(responses, null);
    ranking = toggleTie(ranking, "C");
    expect(tiersOf(ranking)).toEqual([["A"], ["B", "C"], ["D"]]);
    expect(isTiedWithAbove(ranking, "C")).toBe(true);
    expect(isTiedWithAbove(ranking, "B")).toBe(false);
    expect(describeOrder(ranking)).toBe("A, then B = C, then D");
    ranking = toggleTie(ranking, "C");
    expect(tiersOf(ranking)).toEqual([["A"], ["B"], ["C"], ["D"]]);
  });

  it("lets a tied response leave its tier upwards", () => {
    const ranking = toggleTie(startRanking(responses, null), "B");
    expect(tiersOf(ranking)).toEqual([["A", "B"], ["C"], ["D"]]);
    expect(canMove(ranking, "A", -1)).toBe(true);
    expect(tiersOf(moveResponse(ranking, "B", -1))).toEqual([["B"], ["A"], ["C"], ["D"]]);
  });

  it("has nothing to tie the first response with", () => {
    const ranking = startRanking(responses, null);
    expect(toggleTie(ranking, "A")).toBe(ranking);
  });
});

describe("goldPayload", () => {
  it("sends tiers of response ids, best first", () => {
    const ranking = toggleTie(moveResponse(startRanking(responses, null), "D", -1), "C");
    expect(describeOrder(ranking)).toBe("A, then B, then C = D");
    expect(goldPayload(ranking, idsByLabel(responses))).toEqual({ ranking: [[40], [41], [42, 43]] });
  });
});
