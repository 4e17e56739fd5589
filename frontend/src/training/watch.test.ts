import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { LENGTH_PREFERENCE_TITLE, LengthPreferenceChart } from "./LengthPreferenceChart";
import type { LengthPreference, PolicyRound, Watch } from "./types";
import { WatchWarnings } from "./WatchPanel";
import { bandCentres, formatSpan, lengthPreferenceRows, ratioAxis, slopeSpan, slopeTicks, watchFacts, Z95 } from "./watch";

function watch(changes: Partial<Watch> = {}): Watch {
  return {
    prompts: 16,
    held_out_prompts: 0,
    length_chars: 11.5,
    parent_length_chars: 38.1,
    length_chars_se: 8.2,
    length_ratio: 0.3016,
    length_tokens: 3.25,
    parent_length_tokens: 6.1,
    kl: 24.786,
    kl_source: "samples",
    kl_budget: 0.05,
    kl_to_base: 24.786,
    kl_from: "parent",
    reward_gain: 3.845,
    proxy_win_rate: 0.75,
    check_win_rate: 0.25,
    check_win_rate_se: 0.153,
    reward_kl: [[0, 61.1]],
    warnings: [],
    seconds: 41.6,
    ...changes,
  };
}

function round(id: number, changes: Partial<PolicyRound> = {}): PolicyRound {
  return {
    version: { id, name: `ppo-run-${id}` },
    run_id: id,
    kind: "ppo",
    reward_version: { id: 100 + id, name: `reward-${id}` },
    reward_slope: 0.5,
    reward_slope_se: 0.1,
    length_ratio: 1.1,
    warnings: [],
    kl_to_parent: 1.5,
    kl_to_base: 1.5,
    kl_budget: 6,
    kl_from: "parent",
    ...changes,
  };
}

function chart(rounds: PolicyRound[], raters: [number | null, number | null] = [0.2, 0.05]): LengthPreference {
  return {
    version: { id: 1, name: "ppo-run-1" },
    campaign: { id: 7, name: "Everyday questions" },
    raters_slope: raters[0],
    raters_slope_se: raters[1],
    raters_pairs: 300,
    rounds,
    length_drift_factor: 1.3,
  };
}

describe("watchFacts", () => {
  it("says the watched figures in words", () => {
    expect(watchFacts(watch())).toEqual([
      ["Prompts watched", "16 (all trained on)"],
      ["Answer length", "12 characters against the parent's 38 (0.3×)"],
      ["KL from the parent", "24.79 nats per answer, on the watched answers (budget 0.05)"],
      ["Reward gain over the round", "+3.845"],
      ["Win rate under the second reward model", "25 % of prompts won against the parent (± 15)"],
      ["What the watch cost", "42 s"],
    ]);
  });

  it("leaves out what the round did not measure (no sampling, no second model, DPO's no budget)", () => {
    const bare = watch({
      prompts: null,
      length_chars: null,
      parent_length_chars: null,
      length_ratio: null,
      kl: 2,
      kl_source: "last step",
      kl_budget: null,
      kl_to_base: null,
      reward_gain: null,
      check_win_rate: null,
      check_win_rate_se: null,
      seconds: null,
    });
    expect(watchFacts(bare)).toEqual([["KL from the parent", "2 nats per answer, at the last step (no budget)"]]);
  });

  it("adds the drift from the base when the parent is not the base, with the budget where it counted", () => {
    expect(watchFacts(watch({ kl: 2, kl_to_base: 7.5, kl_budget: 6 })).slice(2, 4)).toEqual([
      ["KL from the parent", "2 nats per answer, on the watched answers (budget 6)"],
      ["KL from the base", "7.5 nats per answer, the drift over every round so far"],
    ]);
    expect(watchFacts(watch({ kl: 2, kl_to_base: 7.5, kl_budget: 6, kl_from: "base" })).slice(2, 4)).toEqual([
      ["KL from the parent", "2 nats per answer, on the watched answers"],
      ["KL from the base", "7.5 nats per answer, the drift over every round so far (budget 6, counted from the base)"],
    ]);
    expect(watchFacts(watch({ kl_to_base: null, kl_to_base_error: "OSError: no such model" }))[3]).toEqual(["KL from the base", "not measured: OSError: no such model"]);
  });
});

describe("the chart's geometry", () => {
  it("gives a slope its 95 % interval, or none without a standard error", () => {
    expect(slopeSpan(0.5, 0.1)).toEqual({ value: 0.5, low: 0.5 - Z95 * 0.1, high: 0.5 + Z95 * 0.1 });
    expect(slopeSpan(0.5, null)).toEqual({ value: 0.5, low: 0.5, high: 0.5 });
    expect(slopeSpan(null, 0.1)).toBeNull();
    expect(formatSpan(slopeSpan(0.5, 0.1))).toBe("0.5 (0.3 to 0.7)");
  });

  it("keeps zero, the raters' band and every round's interval on the slope axis", () => {
    const ticks = slopeTicks(chart([round(1, { reward_slope: -1.2, reward_slope_se: 0.2 })], [0.3, 0.05]));
    expect(ticks.domain[0]).toBeLessThanOrEqual(-1.2 - Z95 * 0.2);
    expect(ticks.domain[1]).toBeGreaterThanOrEqual(0.3 + Z95 * 0.05);
    expect(ticks.ticks).toContain(0);
  });

  it("draws length ratios on a log axis with both thresholds and 1 in view", () => {
    const axis = ratioAxis([0.3, 1.1, null], 1.3);
    expect(axis.domain[0]).toBeCloseTo(Math.log2(0.3) - 0.15, 9);
    expect(axis.domain[1]).toBeCloseTo(Math.log2(1.3) + 0.15, 9);
    expect(axis.ticks).toEqual([0.5, 1 / 1.3, 1, 1.3]);
    expect(ratioAxis([], 1.3).ticks).toEqual([1 / 1.3, 1, 1.3]);
  });

  it("puts the rounds at the centres of equal bands", () => {
    expect(bandCentres(2, 0, 100)).toEqual([25, 75]);
    expect(bandCentres(0, 0, 100)).toEqual([]);
  });

  it("lists the raters and each round for the hidden table", () => {
    const rows = lengthPreferenceRows(chart([round(4, { warnings: ["length_drift", "kl_over_budget"] }), round(5, { kind: "dpo", reward_version: null, reward_slope: null, length_ratio: null })]));
    expect(rows.map((row) => [row.name, ...row.cells])).toEqual([
      ["Raters (Everyday questions)", "0.2 (0.1 to 0.3)", "–", "–"],
      ["Round 1: ppo-run-4 (PPO)", "0.5 (0.3 to 0.7), reward-4", "1.1×", "Answer length drifted; KL over its budget"],
      ["Round 2: ppo-run-5 (DPO)", "no reward model", "not watched", "none"],
    ]);
  });
});

describe("LengthPreferenceChart", () => {
  const html = renderToStaticMarkup(createElement(LengthPreferenceChart, { chart: chart([round(1), round(2, { length_ratio: 0.3, warnings: ["length_drift"] })]) }));

  it("is an image titled as the issue names it, with its numbers in a hidden table", () => {
    expect(html).toMatch(/<svg[^>]*role="img"/);
    expect(html).toContain(`<title id="`);
    expect(html).toContain(`${LENGTH_PREFERENCE_TITLE}</title>`);
    expect(html).toContain(`<caption>${LENGTH_PREFERENCE_TITLE}</caption>`);
  });

  it("draws the raters' band, a point per reward model and a flagged diamond for a round with warnings", () => {
    expect(html.match(/class="raters-slope"/g)).toHaveLength(1);
    expect(html.match(/class="reward-slope"/g)).toHaveLength(2);
    expect(html.match(/class="policy-drift is-flagged"/g)).toHaveLength(1);
    expect(html).toContain("Round 2: answers 0.3× the parent&#x27;s length; Answer length drifted");
  });

  it("says so when there is nothing to draw", () => {
    const empty = renderToStaticMarkup(createElement(LengthPreferenceChart, { chart: chart([], [null, null]) }));
    expect(empty).not.toContain("<svg");
    expect(empty).toContain("No data yet");
  });
});

describe("WatchWarnings", () => {
  it("shows each warning as an alert, and nothing without warnings", () => {
    const html = renderToStaticMarkup(createElement(WatchWarnings, { warnings: [{ code: "kl_over_budget", detail: "The KL ended at 24.79 nats." }] }));
    expect(html).toContain('role="alert"');
    expect(html).toContain("Reward-hacking watch: 1 warning</b>");
    expect(html).toContain("<b>KL over its budget.</b> The KL ended at 24.79 nats.");
    expect(renderToStaticMarkup(createElement(WatchWarnings, { warnings: [] }))).toBe("");
  });
});
