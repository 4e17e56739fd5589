import { describe, expect, it } from "vitest";
import { describeDataset, lineageLine, lineageOf } from "./lineage";
import type { Version } from "./types";

function version(id: number, parent: number | null, kind: Version["kind"] = "policy"): Version {
  return {
    id,
    name: `${kind}-${id}`,
    kind,
    base: "smollm2",
    artifact_path: `/runs/${id}`,
    parent: parent === null ? null : { id: parent, name: `${kind}-${parent}`, kind },
    produced_by: null,
    campaign: null,
    snapshot: { hash: "", size: 0 },
    dataset: null,
    metrics: {},
    watch_warnings: [],
    promotion: "",
    promotion_detail: {},
    created_at: "2025-03-01T10:00:00Z",
  };
}

describe("lineageOf", () => {
  it("follows parents up to the root", () => {
    const all = [version(1, null), version(2, 1), version(3, 2), version(9, null)];
    const { chain, truncated } = lineageOf(all[2], all);
    expect(chain.map((v) => v.id)).toEqual([3, 2, 1]);
    expect(truncated).toBe(false);
  });

  it("marks a chain whose parent it does not hold", () => {
    const lonely = version(5, 4);
    expect(lineageOf(lonely, [lonely])).toEqual({ chain: [lonely], truncated: true });
  });

  it("stops at a loop instead of running forever", () => {
    const a = version(1, 2);
    const b = version(2, 1);
    expect(lineageOf(a, [a, b]).chain.map((v) => v.id)).toEqual([1, 2]);
  });
});

describe("lineageLine", () => {
  it("ends at the base model, or with … when cut short", () => {
    const all = [version(1, null), version(2, 1)];
    expect(lineageLine(lineageOf(all[1], all).chain)).toBe("policy-2 ← policy-1 ← smollm2");
    expect(lineageLine([all[1]], true)).toBe("policy-2 ← …");
  });
});

describe("describeDataset", () => {
  it("says every filter in words, with campaign and pool names", () => {
    const text = describeDataset(
      {
        mode: "consensus",
        campaign_ids: [3, 8],
        since: "2025-03-01T00:00:00Z",
        until: null,
        pool_ids: [1],
        min_rater_quality: 0.7,
        exclude_paused: true,
        exclude_gold: true,
        exclude_all_bad: true,
        unsafe: "below",
      },
      [{ id: 3, name: "Brevity" }],
      [{ id: 1, name: "Night shift" }],
    );
    expect(text).toBe(
      "Consensus pairs, from Brevity, #8, since 2025-03-01, pools Night shift, raters with quality ≥ 0.7, without paused raters or gold tasks or judgments flagged all bad, answers flagged unsafe ranked below the safe ones.",
    );
  });

  it("says when the reward model's labels are in the data", () => {
    expect(describeDataset({ mode: "all", campaign_ids: [], model_labels: true })).toBe(
      "All judgments, from every campaign, with the reward model’s labels.",
    );
  });

  it("says what an unsafe flag does when the dataset says", () => {
    expect(describeDataset({ mode: "all", campaign_ids: [], unsafe: "safety" })).toBe(
      "All judgments, from every campaign, only pairs of a safe and an unsafe answer (safety set).",
    );
  });

  it("reads an open dataset and a missing one", () => {
    expect(describeDataset({ mode: "all", campaign_ids: [], exclude_paused: false, exclude_gold: false })).toBe(
      "All judgments, from every campaign.",
    );
    expect(describeDataset(null)).toBe("No data filters (not trained on preferences).");
  });
});
