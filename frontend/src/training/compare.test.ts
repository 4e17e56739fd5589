import { describe, expect, it } from "vitest";
import { betterDirection, comparisonRows, newestRewardVersion, sampleRewardMeans } from "./compare";
import type { Version } from "./types";

describe("betterDirection", () => {
  it("knows losses and KL go down, accuracies and rewards go up", () => {
    expect(betterDirection("train/loss")).toBe("lower");
    expect(betterDirection("kl")).toBe("lower");
    expect(betterDirection("train/kl")).toBe("lower");
    expect(betterDirection("validation/accuracy")).toBe("higher");
    expect(betterDirection("reward_mean")).toBe("higher");
    expect(betterDirection("gold_win_rate")).toBe("higher");
    expect(betterDirection("response_length")).toBeNull();
    expect(betterDirection("kludge")).toBeNull();
  });
});

describe("comparisonRows", () => {
  it("gives the difference and the better side", () => {
    const rows = comparisonRows([
      { name: "val_accuracy", a: 0.6, b: 0.7 },
      { name: "kl", a: 1.5, b: 3 },
      { name: "response_length", a: 80, b: 60 },
      { name: "reward_mean", a: null, b: 0.4 },
      { name: "win_rate", a: 0.5, b: 0.5 },
    ]);
    expect(rows.map((r) => [r.name, r.delta === null ? null : Number(r.delta.toFixed(6)), r.better])).toEqual([
      ["val_accuracy", 0.1, "b"],
      ["kl", 1.5, "a"],
      ["response_length", -20, null],
      ["reward_mean", null, null],
      ["win_rate", 0, null],
    ]);
  });
});

describe("newestRewardVersion", () => {
  const v = (id: number, kind: Version["kind"], created_at: string) => ({ id, kind, created_at }) as Version;

  it("is the newest reward model, ignoring policies", () => {
    const versions = [
      v(1, "reward", "2025-03-01T10:00:00Z"),
      v(2, "policy", "2025-03-05T10:00:00Z"),
      v(3, "reward", "2025-03-03T10:00:00Z"),
    ];
    expect(newestRewardVersion(versions)?.id).toBe(3);
    expect(newestRewardVersion([versions[1]])).toBeNull();
  });
});

describe("sampleRewardMeans", () => {
  it("averages the rewards each side has", () => {
    expect(
      sampleRewardMeans([
        { prompt: "p", a: "x", b: "y", reward_a: 1, reward_b: 2 },
        { prompt: "q", a: "x", b: "y", reward_a: 3, reward_b: null },
      ]),
    ).toEqual({ a: 2, b: 2 });
    expect(sampleRewardMeans([])).toEqual({ a: null, b: null });
  });
});
