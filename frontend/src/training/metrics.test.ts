import { describe, expect, it } from "vitest";
import { chartsFor, lastStep, latestValue, mergeSeries, splitSingleValues } from "./metrics";

describe("lastStep", () => {
  it("is the highest step in any series", () => {
    expect(lastStep({ "train/loss": [[1, 0.7], [2, 0.6]], "validation/accuracy": [[5, 0.6]] })).toBe(5);
  });

  it("is 0 with no points", () => {
    expect(lastStep({})).toBe(0);
    expect(lastStep({ "train/loss": [] })).toBe(0);
  });
});

describe("mergeSeries", () => {
  it("appends the new steps of each series and adds new series", () => {
    const current = { "train/loss": [[1, 0.7], [2, 0.6]] as [number, number][] };
    const merged = mergeSeries(current, { "train/loss": [[3, 0.5]], "train/accuracy": [[3, 0.55]] });
    expect(merged).toEqual({ "train/loss": [[1, 0.7], [2, 0.6], [3, 0.5]], "train/accuracy": [[3, 0.55]] });
    expect(current["train/loss"]).toHaveLength(2);
  });

  it("drops points it already holds, so a repeated answer adds nothing", () => {
    const current = { "train/loss": [[1, 0.7], [2, 0.6]] as [number, number][] };
    const merged = mergeSeries(current, { "train/loss": [[2, 0.6], [1, 0.7]] });
    expect(merged).toBe(current);
  });

  it("sorts an out-of-order answer and keeps one point per step", () => {
    const merged = mergeSeries({}, { "train/kl": [[3, 0.3], [1, 0.1], [3, 0.33], [2, 0.2]] });
    expect(merged["train/kl"]).toEqual([[1, 0.1], [2, 0.2], [3, 0.3]]);
  });

  it("skips values that are not finite numbers", () => {
    const merged = mergeSeries({}, { "train/kl": [[1, Number.NaN], [2, 0.2]] });
    expect(merged["train/kl"]).toEqual([[2, 0.2]]);
  });

  it("keeps the identity of series that did not change", () => {
    const loss: [number, number][] = [[1, 0.7]];
    const merged = mergeSeries({ "train/loss": loss, "train/kl": [[1, 0.1]] }, { "train/kl": [[2, 0.2]] });
    expect(merged["train/loss"]).toBe(loss);
    expect(merged["train/kl"]).toEqual([[1, 0.1], [2, 0.2]]);
  });

  it("adds a series that arrives empty, so it can be listed", () => {
    expect(mergeSeries({}, { "train/entropy": [] })).toEqual({ "train/entropy": [] });
  });
});

describe("chartsFor", () => {
  it("draws a reward model's loss, and its training and validation accuracy together", () => {
    const charts = chartsFor("reward", ["train/loss", "train/accuracy", "validation/accuracy"]);
    expect(charts.map((c) => [c.title, c.names])).toEqual([
      ["Loss", ["train/loss"]],
      ["Accuracy", ["train/accuracy", "validation/accuracy"]],
    ]);
    expect(charts[1].isRate).toBe(true);
  });

  it("draws PPO's four curves even before any data, then lists unknown series after them", () => {
    const charts = chartsFor("ppo", ["train/policy_loss", "train/kl", "train/beta"]);
    expect(charts.map((c) => c.names[0])).toEqual([
      "train/reward_mean",
      "train/kl",
      "train/entropy",
      "train/response_length",
      "train/beta",
      "train/policy_loss",
    ]);
    expect(charts[5].yLabel).toBe("policy_loss");
  });

  it("draws DPO's loss, accuracy and margin", () => {
    expect(chartsFor("dpo", []).map((c) => c.names)).toEqual([
      ["train/loss"],
      ["train/rewards/accuracies"],
      ["train/rewards/margins"],
    ]);
  });

  it("has no planned charts for a generation run but still shows what it reported", () => {
    expect(chartsFor("generate", ["generate/responses"]).map((c) => c.title)).toEqual(["generate/responses"]);
  });
});

describe("latestValue", () => {
  it("is the last point's value", () => {
    expect(latestValue([[1, 0.5], [2, 0.25]])).toBe(0.25);
    expect(latestValue([])).toBeNull();
    expect(latestValue(undefined)).toBeNull();
  });
});

describe("splitSingleValues", () => {
  const series = {
    "train/loss": [
      [1, 0.7],
      [2, 0.6],
    ],
    "train/accuracy": [[2, 0.5]],
    "validation/accuracy": [[2, 0.625]],
    "eval/runtime": [[2, 3.5]],
  } as const;
  const names = Object.keys(series);

  it("lists end-of-run values instead of drawing one-point curves once the run has ended", () => {
    const { charts, once } = splitSingleValues(chartsFor("reward", names), { ...series } as never, "reward", false);
    expect(charts.map((c) => c.title)).toEqual(["Loss"]);
    expect(once).toEqual([
      { name: "train/accuracy", step: 2, value: 0.5 },
      { name: "validation/accuracy", step: 2, value: 0.625 },
      { name: "eval/runtime", step: 2, value: 3.5 },
    ]);
  });

  it("keeps the kind's own charts while the run is active, to fill in as it trains", () => {
    const { charts, once } = splitSingleValues(chartsFor("reward", names), { ...series } as never, "reward", true);
    expect(charts.map((c) => c.title)).toEqual(["Loss", "Accuracy"]);
    expect(once.map((o) => o.name)).toEqual(["eval/runtime"]);
  });

  it("keeps an empty planned chart (it says no data yet) and draws a series from its second point", () => {
    const grown = { "eval/runtime": [[2, 3.5], [4, 3.1]] } as never;
    const { charts, once } = splitSingleValues(chartsFor("reward", ["eval/runtime"]), grown, "reward", false);
    expect(charts.map((c) => c.title)).toEqual(["Loss", "Accuracy", "eval/runtime"]);
    expect(once).toEqual([]);
  });
});
