import { describe, expect, it } from "vitest";
import { readCeiling } from "./ceiling";
import type { Ceiling } from "./types";

function ceiling(percent: number | null, accuracy: number | null): Ceiling {
  return {
    campaign: { id: 1, name: "Demo" },
    human_agreement: { percent, alpha: 0.4, n: 120 },
    reward_model: { version: accuracy === null ? null : { id: 2, name: "reward-2", kind: "reward" }, val_accuracy: accuracy },
  };
}

describe("readCeiling", () => {
  it("puts the model's accuracy beside the raters' agreement", () => {
    const reading = readCeiling(ceiling(0.8, 0.72));
    expect(reading.humanPercent).toBeCloseTo(80, 9);
    expect(reading.modelPercent).toBeCloseTo(72, 9);
    expect(reading.ofCeiling).toBeCloseTo(0.9, 9);
    expect(reading.sentence).toMatch(/^The reward model is right on 72 % of held-out pairs; raters agree with each other on 80 % \(120 compared\)\. It is close to the ceiling\./);
    expect(reading.sentence).toMatch(/their agreement is the ceiling\.$/);
  });

  it("says when there is room left, or when the ceiling is reached", () => {
    expect(readCeiling(ceiling(0.8, 0.6)).sentence).toContain("There is room left");
    expect(readCeiling(ceiling(0.7, 0.71)).sentence).toContain("It is at the ceiling");
  });

  it("says what is missing", () => {
    expect(readCeiling(ceiling(null, 0.6)).sentence).toMatch(/^The reward model is right on 60 % .* rater agreement is not known yet/);
    expect(readCeiling(ceiling(0.75, null)).sentence).toMatch(/^Raters agree on 75 % of pairs \(120 compared\); no reward model/);
    expect(readCeiling(ceiling(null, null)).ofCeiling).toBeNull();
    expect(readCeiling(ceiling(null, null)).sentence).toMatch(/^Not enough data yet/);
  });
});
