import { describe, expect, it } from "vitest";
import { readCeiling } from "./ceiling";
import type { Ceiling } from "./types";

function ceiling(human: number | null, accuracy: number | null, verdict: Ceiling["verdict"] = "unknown"): Ceiling {
  return {
    campaign: { id: 1, name: "Demo" },
    human_agreement: {
      percent: 0.6,
      alpha: 0.4,
      n: 120,
      consensus: human,
      consensus_ci_low: human === null ? null : human - 0.05,
      consensus_ci_high: human === null ? null : human + 0.05,
      consensus_n: 300,
    },
    reward_model: {
      version: accuracy === null ? null : { id: 2, name: "reward-2", kind: "reward" },
      val_accuracy: accuracy,
      val_ci_low: accuracy === null ? null : accuracy - 0.1,
      val_ci_high: accuracy === null ? null : accuracy + 0.1,
    },
    verdict,
  };
}

describe("readCeiling", () => {
  it("puts the model's held-out accuracy beside the leave-one-out human figure, with intervals", () => {
    const reading = readCeiling(ceiling(0.8, 0.72, "at"));
    expect(reading.humanPercent).toBeCloseTo(80, 9);
    expect(reading.modelPercent).toBeCloseTo(72, 9);
    expect(reading.humanInterval).toBe("75–85 %");
    expect(reading.modelInterval).toBe("62–82 %");
    expect(reading.sentence).toMatch(
      /^The reward model is right on 72 % of held-out pairs \(95 % interval 62–82 %\); a rater agrees with the others' majority on 80 % of decided pairs \(95 % interval 75–85 %\), over 300 ratings\. The intervals overlap, so no difference can be claimed either way/,
    );
    expect(reading.sentence).toMatch(/that agreement is its ceiling\.$/);
  });

  it("says above or below only as the server's verdict allows", () => {
    expect(readCeiling(ceiling(0.8, 0.5, "below")).sentence).toContain("It is below the ceiling, beyond both intervals");
    expect(readCeiling(ceiling(0.6, 0.9, "above")).sentence).toContain("It is above that figure, beyond both intervals");
    expect(readCeiling(ceiling(0.7, 0.71, "unknown")).sentence).toContain("no comparison is claimed");
  });

  it("says what is missing", () => {
    expect(readCeiling(ceiling(null, 0.6)).sentence).toMatch(/^The reward model is right on 60 % .* rater agreement is not known yet/);
    expect(readCeiling(ceiling(0.75, null)).sentence).toMatch(/^A rater agrees with the others' majority on 75 % of decided pairs .*; no reward model/);
    expect(readCeiling(ceiling(null, null)).humanInterval).toBeNull();
    expect(readCeiling(ceiling(null, null)).sentence).toMatch(/^Not enough data yet/);
  });
});
