import { describe, expect, it } from "vitest";
import { chartItems, formatScore, intervalSourceText, intervalText, leaderSentence, lengthSentence, nextPairText, percentText, type ArenaBoard } from "./arena";

function board(change: Partial<ArenaBoard> = {}): ArenaBoard {
  return {
    standings: [
      { model: "model-a", score: 0.4, low: 0.1, high: 0.7, comparisons: 30, win_probability_vs_leader: 0.5, lead_low: 0, lead_high: 0 },
      { model: "model-b", score: -0.4, low: null, high: null, comparisons: 0, win_probability_vs_leader: 0.31, lead_low: 0.2, lead_high: 1.4 },
    ],
    comparisons: 30,
    length_controlled: false,
    length_coefficient: null,
    top_separated: false,
    resamples: 200,
    tasks: 30,
    ...change,
  };
}

describe("arena figures", () => {
  it("signs scores and words intervals", () => {
    expect(formatScore(0.421)).toBe("+0.42");
    expect(formatScore(-0.127)).toBe("-0.13");
    expect(formatScore(0.001)).toBe("0.00");
    expect(intervalText({ low: -0.2, high: 0.55 })).toBe("-0.20 to +0.55");
    expect(intervalText({ low: null, high: null })).toBe("not known yet");
    expect(percentText(0.473)).toBe("47%");
  });

  it("draws a model with no interval as its point alone", () => {
    const items = chartItems(board());
    expect(items.map((item) => [item.label, item.low, item.high])).toEqual([
      ["model-a", 0.1, 0.7],
      ["model-b", -0.4, -0.4],
    ]);
    expect(items[1].note).toBe("0 comparisons, no interval yet");
  });

  it("says whether the top is separated and what it waits for", () => {
    expect(leaderSentence(board(), 50)).toBe("30 comparisons. model-a leads, but not clearly yet: a leader is called only once 50 tasks have been judged (30 tasks so far; a task's raters count once).");
    expect(leaderSentence(board({ comparisons: 80, tasks: 80 }), 50)).toContain("still within the noise");
    // Three raters on each of 20 tasks: 60 comparisons, still short of 50 tasks.
    expect(leaderSentence(board({ comparisons: 60, tasks: 20 }), 50)).toContain("20 tasks so far");
    expect(leaderSentence(board({ top_separated: true }), 20)).toContain("model-a leads, clearly ahead of every other model");
    expect(leaderSentence(board({ top_separated: true }), 20)).toContain("97.5% of the resamples");
    expect(leaderSentence(board({ top_separated: true, resamples: 0 }), 20)).toContain("its lead over each has a 95% interval above 0");
  });

  it("says where the intervals come from", () => {
    expect(intervalSourceText({ resamples: 200, comparisons: 30 })).toContain("refitting on 200 resamples of the tasks");
    expect(intervalSourceText({ resamples: 0, comparisons: 12000 })).toContain("widened for tasks that several raters judged");
    expect(intervalSourceText({ resamples: 0, comparisons: 0 })).toContain("once raters have judged");
    expect(leaderSentence(board({ comparisons: 0 }), 50)).toMatch(/^No comparisons yet/);
  });

  it("reads the length coefficient's sign", () => {
    expect(lengthSentence(board())).toBe("No length effect measured yet.");
    expect(lengthSentence(board({ length_coefficient: 0.35 }))).toContain("+0.35 log-odds per unit of log length ratio: raters favour the longer answer");
    expect(lengthSentence(board({ length_coefficient: -0.5 }))).toContain("favour the shorter answer");
    expect(nextPairText(["a", "b"])).toBe("a against b");
  });
});
