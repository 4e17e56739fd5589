import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { KlDriftChart } from "./KlDriftChart";
import { KL_DRIFT_TITLE, budgetWords, klAxis, klDriftDescription, klDriftRows } from "./klDrift";
import type { PolicyRound } from "./types";

function round(id: number, changes: Partial<PolicyRound> = {}): PolicyRound {
  return {
    version: { id, name: `ppo-run-${id}` },
    run_id: id,
    kind: "ppo",
    reward_version: null,
    reward_slope: null,
    reward_slope_se: null,
    length_ratio: 1,
    warnings: [],
    kl_to_parent: 2,
    kl_to_base: 2,
    kl_budget: 6,
    kl_from: "parent",
    ...changes,
  };
}

// Three rounds: the first from the base, the second piling drift on, the third held to a
// budget counted from the base; a DPO round between them measured nothing.
const ROUNDS = [
  round(1),
  round(2, { kl_to_parent: 3, kl_to_base: 5.2 }),
  round(3, { kind: "dpo", kl_to_parent: null, kl_to_base: null, kl_budget: null }),
  round(4, { kind: "grpo", kl_to_parent: 0.4, kl_to_base: 5.9, kl_from: "base" }),
];

describe("KL from the base across rounds", () => {
  it("keeps zero, every KL and every budget on the axis", () => {
    const axis = klAxis([round(1, { kl_to_base: 9.3, kl_budget: 12 })]);
    expect(axis.domain[0]).toBe(0);
    expect(axis.domain[1]).toBeGreaterThan(12); // the budget below the top edge
    expect(klAxis([round(1, { kl_to_base: null, kl_to_parent: null, kl_budget: null })]).domain[0]).toBe(0);
  });

  it("says what each round's budget counted from", () => {
    expect(budgetWords(ROUNDS[0])).toBe("6 nats from the parent");
    expect(budgetWords(ROUNDS[3])).toBe("6 nats from the base");
    expect(budgetWords(ROUNDS[2])).toBe("no budget");
  });

  it("describes the drift from its first measured round to its last", () => {
    expect(klDriftDescription(ROUNDS)).toBe(
      "KL from the base after round 4: 5.9 nats per answer, from 2 nats after round 1. Each round's KL from its parent and its budget are drawn beside it.",
    );
    expect(klDriftDescription([ROUNDS[2]])).toBe("No round along this lineage measured its KL from the base.");
  });

  it("lists every round for the hidden table", () => {
    expect(klDriftRows(ROUNDS).map((row) => [row.name, ...row.cells])).toEqual([
      ["Round 1: ppo-run-1 (PPO)", "2 nats", "2 nats", "6 nats from the parent"],
      ["Round 2: ppo-run-2 (PPO)", "5.2 nats", "3 nats", "6 nats from the parent"],
      ["Round 3: ppo-run-3 (DPO)", "not measured", "not measured", "no budget"],
      ["Round 4: ppo-run-4 (GRPO)", "5.9 nats", "0.4 nats", "6 nats from the base"],
    ]);
  });

  it("draws a point from the base and a square from the parent per measured round, and each budget", () => {
    const html = renderToStaticMarkup(createElement(KlDriftChart, { rounds: ROUNDS }));
    expect(html).toMatch(/<svg[^>]*role="img"/);
    expect(html).toContain(`${KL_DRIFT_TITLE}</title>`);
    expect(html).toContain(`<caption>${KL_DRIFT_TITLE}</caption>`);
    expect(html.match(/class="kl-base"/g)).toHaveLength(3);
    expect(html.match(/class="kl-parent"/g)).toHaveLength(3);
    expect(html.match(/class="kl-drift-budget"/g)).toHaveLength(3);
    expect(html.match(/stroke-dasharray="4 3"/g)).toHaveLength(2); // the two budgets counted from the parent
    expect(html).toContain("Round 4: 5.9 nats from the base");
  });

  it("says so when no round measured any KL", () => {
    const empty = renderToStaticMarkup(createElement(KlDriftChart, { rounds: [ROUNDS[2]] }));
    expect(empty).not.toContain("<svg");
    expect(empty).toContain("No data yet");
  });
});
