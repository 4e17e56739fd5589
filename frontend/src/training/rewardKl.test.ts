import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { RewardKlChart } from "./RewardKlChart";
import { REWARD_KL_TITLE, hasCheck, klTicks, rewardKlPoints, rewardKlRows, rewardKlSummary, rewardTicks } from "./rewardKl";
import type { Watch } from "./types";

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
    kl_to_base: null,
    kl_from: "parent",
    reward_gain: 3.845,
    proxy_win_rate: 0.75,
    check_win_rate: 0.25,
    check_win_rate_se: 0.153,
    reward_kl: [
      [0, -1.5],
      [0.8, 0.25],
      [3.2, 1.75],
    ],
    check_reward_kl: [
      [0, 1.5],
      [0.8, -0.25],
      [3.2, -1.75],
    ],
    warnings: [],
    ...changes,
  };
}

describe("rewardKlPoints", () => {
  it("pairs each step's KL with both models' mean rewards", () => {
    expect(rewardKlPoints(watch())).toEqual([
      { step: 1, kl: 0, reward: -1.5, check: 1.5 },
      { step: 2, kl: 0.8, reward: 0.25, check: -0.25 },
      { step: 3, kl: 3.2, reward: 1.75, check: -1.75 },
    ]);
  });

  it("has no second model's rewards without one, or when they do not match the steps", () => {
    for (const check_reward_kl of [[], undefined, [[0, 1]]]) {
      const points = rewardKlPoints(watch({ check_reward_kl }));
      expect(points.map((p) => p.check)).toEqual([null, null, null]);
      expect(hasCheck(points)).toBe(false);
    }
  });
});

describe("axes", () => {
  it("runs the KL axis from 0 to past the largest KL or the budget", () => {
    const points = rewardKlPoints(watch());
    expect(klTicks(points, 0.05)).toEqual({ domain: [0, 4], ticks: [0, 1, 2, 3, 4], step: 1 });
    expect(klTicks(points.slice(0, 1), 6).domain).toEqual([0, 6]);
    expect(klTicks(points.slice(0, 2), null)).toEqual({ domain: [0, 0.8], ticks: [0, 0.2, 0.4, 0.6, 0.8], step: 0.2 });
  });

  it("reaches below 0 when a step's sampled KL estimate does", () => {
    const below = [{ step: 1, kl: -0.11, reward: 0, check: null }, { step: 2, kl: 0.96, reward: 1, check: null }];
    const ticks = klTicks(below, null);
    expect(ticks.domain[0]).toBeLessThanOrEqual(-0.11);
    expect(ticks.domain[1]).toBeGreaterThanOrEqual(0.96);
  });

  it("gives each reward model its own round ticks, ignoring missing values", () => {
    expect(rewardTicks([-1.5, 0.25, 1.75])).toEqual({ domain: [-2, 2], ticks: [-2, -1, 0, 1, 2], step: 1 });
    expect(rewardTicks([null, 10, 30])).toEqual({ domain: [10, 30], ticks: [10, 15, 20, 25, 30], step: 5 });
    expect(rewardTicks([null]).domain).toEqual([0, 1]);
  });
});

describe("the text alternative", () => {
  it("lists each step for the hidden table, with the second model's column only when there is one", () => {
    expect(rewardKlRows(rewardKlPoints(watch()))[1]).toEqual({ key: 2, name: "Step 2", cells: ["0.8", "0.25", "-0.25"] });
    expect(rewardKlRows(rewardKlPoints(watch({ check_reward_kl: [] })))[2]).toEqual({ key: 3, name: "Step 3", cells: ["3.2", "1.75"] });
  });

  it("says where both curves went and the budget", () => {
    expect(rewardKlSummary(rewardKlPoints(watch()), 0.05)).toBe(
      "3 steps, KL from the parent (nats per answer) across, the KL budget of 0.05 nats dashed. The round's reward model's mean reward went from -1.5 to 1.75 while the KL went from 0 to 3.2. The second reward model's mean reward, on its own scale at the right, went from 1.5 to -1.75.",
    );
    expect(rewardKlSummary(rewardKlPoints(watch({ check_reward_kl: [], reward_kl: [[0.1, 2]] })), null)).toBe(
      "1 step, KL from the parent (nats per answer) across, no KL budget. The round's reward model's mean reward went from 2 to 2 while the KL went from 0.1 to 0.1.",
    );
    expect(rewardKlSummary([], null)).toBe("No steps logged.");
    expect(rewardKlSummary(rewardKlPoints(watch()), 0.05, "base")).toContain("3 steps, KL from the base (nats per answer) across");
  });
});

describe("RewardKlChart", () => {
  it("is an image titled and described, with the budget dashed and a hidden table", () => {
    const html = renderToStaticMarkup(createElement(RewardKlChart, { watch: watch() }));
    expect(html).toContain(`<title id=`);
    expect(html).toContain(`>${REWARD_KL_TITLE}</title>`);
    expect(html).toContain('role="img"');
    expect(html).toContain("chart-reference kl-budget");
    expect(html).toContain("right axis: the two models&#x27; units differ");
    expect(html.match(/reward-kl-series/g)).toHaveLength(2);
    expect(html).toContain("<caption>Reward against KL</caption>");
    expect(html).toContain("Second model</th>");
  });

  it("draws one series and no second axis without a second model", () => {
    const html = renderToStaticMarkup(createElement(RewardKlChart, { watch: watch({ check_reward_kl: [] }) }));
    expect(html.match(/reward-kl-series/g)).toHaveLength(1);
    expect(html).not.toContain("Second model");
  });
});
