import { describe, expect, it } from "vitest";
import {
  campaignFigures,
  ceilingSentence,
  consensusSentence,
  flaggedRows,
  flagReasons,
  flagWords,
  formatCoefficient,
  formatDuration,
  formatP,
  formatShare,
  headlineCards,
  overTimeDomain,
  overTimeSeries,
  overTimeUnit,
  pauseReason,
  testCharts,
  testItems,
} from "./quality";
import { REPORT } from "./qualityFixture";
import type { Agreement, QualityReport, RaterRow } from "./qualityTypes";

const row = (name: string): RaterRow => REPORT.rater_rows.find((r) => r.username === name)!;
const NULL_ESTIMATE = { value: null, ci_low: null, ci_high: null, n: 0 };

describe("formatting", () => {
  it("shows shares in percent, with a decimal under 10%", () => {
    expect(formatShare(0.6361)).toBe("64%");
    expect(formatShare(0.0861)).toBe("8.6%");
    expect(formatShare(0)).toBe("0%");
    expect(formatShare(1)).toBe("100%");
  });

  it("never shows NaN: missing figures read 'not enough data'", () => {
    expect(formatShare(null)).toBe("not enough data");
    expect(formatShare(Number.NaN)).toBe("not enough data");
    expect(formatCoefficient(undefined)).toBe("not enough data");
    expect(formatDuration(null)).toBe("not enough data");
  });

  it("writes coefficients with a true minus sign", () => {
    expect(formatCoefficient(0.38)).toBe("0.38");
    expect(formatCoefficient(-2.3723)).toBe("−2.37");
    expect(formatCoefficient(-0.001)).toBe("0.00");
  });

  it("writes small p-values in powers of ten so none reads as zero", () => {
    expect(formatP(0.47)).toBe("0.47");
    expect(formatP(0.0029)).toBe("0.003");
    expect(formatP(2.5928e-6)).toBe("2.6 × 10⁻⁶");
    expect(formatP(null)).toBe("not tested");
  });

  it("reads durations in seconds or minutes", () => {
    expect(formatDuration(1226.5)).toBe("1.2 s");
    expect(formatDuration(18560.5)).toBe("19 s");
    expect(formatDuration(95_000)).toBe("1 min 35 s");
  });
});

describe("headlineCards", () => {
  it("gives each agreement figure its interval and n, and leaves out a null Kendall's W", () => {
    const cards = headlineCards(REPORT.agreement, true);
    expect(cards.map((c) => c.key)).toEqual(["percent_agreement", "percent_agreement_no_ties", "alpha_pairwise", "fleiss_kappa"]);
    expect(cards[0]).toMatchObject({ value: "64%", interval: "57–71%", n: "120 response pairs", missing: false });
    expect(cards[2]).toMatchObject({ value: "0.38", interval: "0.24 to 0.52" });
  });

  it("shows the rank figures of a campaign that ranks more than two responses", () => {
    const agreement: Agreement = { ...REPORT.agreement, alpha_ranks: { value: 0.41, ci_low: 0.3, ci_high: 0.5, n: 240 } };
    const cards = headlineCards(agreement);
    expect(cards.map((c) => c.key)).toContain("alpha_ranks");
    expect(cards.find((c) => c.key === "alpha_ranks")?.n).toBe("240 ranked responses");
  });

  it("shows Kendall's W when the report has it, and 'not enough data' for nulls", () => {
    const agreement: Agreement = {
      ...REPORT.agreement,
      alpha_pairwise: NULL_ESTIMATE,
      kendalls_w: { value: 0.61, ci_low: 0.55, ci_high: 0.67, n: 1 },
    };
    const cards = headlineCards(agreement);
    expect(cards.find((c) => c.key === "kendalls_w")).toMatchObject({ value: "0.61", n: "1 task" });
    expect(cards.find((c) => c.key === "alpha_pairwise")).toMatchObject({
      value: "not enough data",
      interval: null,
      missing: true,
    });
    expect(JSON.stringify(cards)).not.toContain("NaN");
  });
});

describe("sentences", () => {
  it("states leave-one-out agreement with the others' majority as the ceiling", () => {
    expect(ceilingSentence(REPORT.agreement)).toMatch(
      /^A rater picks the winner the other raters' majority picks in 74% of decided pairs \(95% CI 69–79%\): that is the ceiling a reward model can reach on this data/,
    );
    expect(ceilingSentence({ ...REPORT.agreement, consensus_agreement: NULL_ESTIMATE })).toContain(
      "the ceiling a reward model can reach on this data",
    );
  });

  it("summarises the consensus", () => {
    expect(consensusSentence(REPORT)).toBe(
      "120 tasks have a consensus ranking; 56% of them have a clear best response (a Bradley–Terry fit over all raters gives it at least a 75% chance of beating the runner-up).",
    );
    expect(consensusSentence({ ...REPORT, consensus: { tasks: 0, clear_top_share: null, mean_top_probability: null } })).toBe("No task has judgments yet.");
  });
});

describe("overTimeSeries", () => {
  it("maps each period to a point with its band, and alpha to a second line without one", () => {
    const [agreement, alpha] = overTimeSeries(REPORT);
    expect(agreement.points).toEqual([{ x: new Date("2026-11-22T00:00:00+00:00"), y: 0.636111, low: 0.56375, high: 0.691667 }]);
    expect(alpha).toMatchObject({ name: "Krippendorff's α", dashed: true });
    expect(alpha.points[0]).toEqual({ x: new Date("2026-11-22T00:00:00+00:00"), y: 0.379995 });
  });

  it("drops periods whose figure is null and widens the y range below zero when alpha is", () => {
    const report: QualityReport = {
      ...REPORT,
      over_time: [
        { ...REPORT.over_time[0], percent_agreement: NULL_ESTIMATE },
        { ...REPORT.over_time[0], start: "2026-11-23T00:00:00+00:00", alpha_pairwise: { ...NULL_ESTIMATE, value: -0.23, n: 4 } },
      ],
    };
    const series = overTimeSeries(report);
    expect(series[0].points).toHaveLength(1);
    expect(series[1].points.map((p) => p.y)).toEqual([0.379995, -0.23]);
    expect(overTimeDomain(series)).toEqual([-0.3, 1]);
    expect(overTimeDomain(overTimeSeries(REPORT))).toEqual([0, 1]);
  });
});

describe("overTimeUnit", () => {
  it("tells weekly buckets (campaigns over 90 days) from daily ones", () => {
    const at = (start: string) => ({ ...REPORT.over_time[0], start });
    expect(overTimeUnit(REPORT)).toBe("day");
    expect(overTimeUnit({ ...REPORT, over_time: [at("2026-01-05T00:00:00+00:00"), at("2026-04-13T00:00:00+00:00")] })).toBe("week");
    expect(overTimeUnit({ ...REPORT, over_time: [at("2026-01-05T00:00:00+00:00"), at("2026-01-12T00:00:00+00:00")] })).toBe("day");
  });
});

describe("campaignFigures", () => {
  it("returns the pooled figures, or null when nobody has judged yet", () => {
    expect(campaignFigures(REPORT)?.position_bias.p_value).toBeCloseTo(0.00288, 5);
    expect(campaignFigures({ ...REPORT, campaign: {} })).toBeNull();
  });
});

describe("chart items", () => {
  it("turns each rater's test into a row with its interval, flag and p-value", () => {
    const items = testItems(REPORT.rater_rows, "position_bias");
    expect(items.map((i) => [i.label, i.flagged])).toEqual([
      ["sim-01", false],
      ["sim-11", true],
      ["sim-12", false],
    ]);
    expect(items[1]).toMatchObject({ id: 11, value: 0.964286, low: 0.822878, high: 0.993667 });
    expect(items[1].note).toBe("n = 28, p = 2.6 × 10⁻⁶ after Holm");
  });

  it("leaves out raters without a value and says when a rater was not tested", () => {
    const untested: RaterRow = {
      ...row("sim-01"),
      rater_id: 99,
      username: "new",
      tested: false,
      fast_share: { ...row("sim-01").fast_share, value: 0.5, ci_low: null, ci_high: null, n: 4, p_value: null, p_adjusted: null },
      position_bias: { ...row("sim-01").position_bias, value: null },
    };
    expect(testItems([untested], "position_bias")).toEqual([]);
    expect(testItems([untested], "fast_share")[0]).toMatchObject({ low: 0.5, high: 0.5, note: "n = 4, too few judgments to test" });
  });

  it("draws the reference lines the brief asks for: 0.5, 0.5, the median rater, the allowed share", () => {
    const charts = testCharts(REPORT.settings);
    expect(charts.map((c) => [c.test, c.reference])).toEqual([
      ["position_bias", 0.5],
      ["length_bias", 0.5],
      ["loo_agreement", 0.8],
      ["fast_share", 0.1],
    ]);
    expect(charts[2].referenceLabel).toBe("median 80%");
  });
});

describe("flags in words", () => {
  it("names every flag the report uses", () => {
    expect(["position_bias", "length_bias", "speed", "straight_lining", "outlier", "gold"].map(flagWords)).toEqual([
      "position bias",
      "length bias",
      "too fast",
      "straight-lining",
      "outlier vs others",
      "gold below threshold",
    ]);
    expect(flagWords("new_flag")).toBe("new flag");
  });

  it("gives the figures and p-values behind a flag", () => {
    const [reason] = flagReasons(row("sim-11"), REPORT.settings);
    expect(reason.name).toBe("position bias");
    expect(reason.detail).toBe(
      "Chose the response shown first in 96% (95% CI 82–99%) of 28 judgments; without bias it would be about 50%.",
    );
    expect(reason.p).toBe("p = 2.2 × 10⁻⁷, 2.6 × 10⁻⁶ after Holm's correction");
  });

  it("describes too fast, outlier, length and gold flags with their own figures", () => {
    const spammer = row("sim-12");
    const [speed] = flagReasons(spammer, REPORT.settings);
    expect(speed.detail).toBe(
      "100% (95% CI 89–100%) of 30 judgments were faster than 15 ms per character shown (10% allowed); median time 1.2 s.",
    );
    const everything: RaterRow = {
      ...spammer,
      flags: ["outlier", "length_bias", "gold"],
      gold_accuracy: { value: 0.5, ci_low: 0.3, ci_high: 0.7, n: 20, items: 12 },
    };
    const settings = { ...REPORT.settings, gold_threshold: 0.7 };
    const [outlier, length, gold] = flagReasons(everything, settings);
    expect(outlier.detail).toBe(
      "Agreed with the other raters' majority in 44% (95% CI 23–67%) of 16 judgments, against the median rater's 80%; more than 10 points below the median makes an outlier.",
    );
    expect(length.detail).toContain("length slope");
    expect(gold).toMatchObject({
      name: "gold below threshold",
      detail: "Gold accuracy 50% (95% CI 30–70%) over 12 gold tasks, below the campaign's 70% threshold.",
      p: "",
    });
  });

  it("lists flagged raters only, the most flags first", () => {
    const report = { ...REPORT, rater_rows: [...REPORT.rater_rows, { ...row("sim-01"), rater_id: 5, username: "a", flags: ["speed", "outlier"] as RaterRow["flags"] }] };
    expect(flaggedRows(report).map((r) => r.username)).toEqual(["a", "sim-11", "sim-12"]);
  });

  it("prefills a pause reason naming the campaign, the flags and their figures", () => {
    expect(pauseReason(row("sim-11"), "Quality demo")).toBe(
      "Quality report for “Quality demo”: position bias (first shown chosen 96%, p = 2.6 × 10⁻⁶).",
    );
    const long = pauseReason({ ...row("sim-11"), flags: Array(40).fill("position_bias") }, "x");
    expect(long.length).toBe(500);
  });
});
