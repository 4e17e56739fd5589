import { describe, expect, it } from "vitest";
import { comparisonsText, readPromotion, winProbabilityText } from "./promotion";

describe("readPromotion", () => {
  it("is null without a gate", () => {
    expect(readPromotion({})).toBeNull();
    expect(readPromotion(null)).toBeNull();
    expect(readPromotion([1])).toBeNull();
  });

  it("reads the gate's figures and words them", () => {
    const detail = readPromotion({
      arena_campaign_id: 5,
      arena_campaign: "Arena",
      arena_run_id: 9,
      rival: "policy-3",
      rival_version_id: 3,
      max_comparisons: 100,
      min_comparisons: 20,
      comparisons: 40,
      wins: 25,
      win_probability: 0.625,
      low: 0.512,
      high: 0.729,
      decided_at: null,
      reason: "",
    });
    expect(detail).toMatchObject({ arena_campaign: "Arena", wins: 25, generation_run_id: null });
    expect(comparisonsText(detail!)).toBe("40 of at most 100 comparisons (at least 20 before it decides)");
    expect(winProbabilityText(detail!)).toBe("62.5 % (95 %: 51.2 % to 72.9 %)");
    expect(winProbabilityText({ ...detail!, win_probability: null })).toBeNull();
    const looked = { ...detail!, confidence: 0.995, looked_at: 30, comparisons: 34 };
    expect(winProbabilityText(looked)).toBe("62.5 % (99.5 %: 51.2 % to 72.9 %) over the first 30 comparisons");
  });

  it("takes a malformed figure as unknown", () => {
    expect(readPromotion({ comparisons: "many", reason: 3 })).toMatchObject({ comparisons: 0, reason: "", win_probability: null });
  });
});
