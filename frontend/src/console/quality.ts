/** The quality report in words and chart data: pure functions over the report's JSON. */

import type { IntervalItem } from "../charts/IntervalChart";
import type { LineSeries } from "../charts/LineChart";
import type {
  Agreement,
  Estimate,
  FlagName,
  CampaignFigures,
  QualityReport,
  RaterRow,
  ReportSettings,
  TestedEstimate,
} from "./qualityTypes";

export const NOT_ENOUGH = "not enough data";

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

function known(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** 0.6361 → "64%"; shares under 10% keep a decimal ("8.6%"). */
export function formatShare(value: number | null | undefined): string {
  if (!known(value)) return NOT_ENOUGH;
  const percent = value * 100;
  const digits = Math.abs(percent) < 10 && percent !== 0 ? 1 : 0;
  return `${percent.toFixed(digits).replace(/\.0$/, "")}%`;
}

/** A coefficient (alpha, kappa, W, a slope) with two decimals; "−" for negatives. */
export function formatCoefficient(value: number | null | undefined): string {
  if (!known(value)) return NOT_ENOUGH;
  const text = Math.abs(value).toFixed(2);
  return value < 0 && text !== "0.00" ? `−${text}` : text;
}

/** A p-value: three decimals, or "2.6 × 10⁻⁶" when tiny, so nothing reads as zero. */
export function formatP(p: number | null | undefined): string {
  if (!known(p)) return "not tested";
  if (p >= 0.01) return p.toFixed(2);
  if (p >= 0.001) return p.toFixed(3);
  const [mantissa, exponent] = p.toExponential(1).split("e");
  const power = String(Number(exponent)).replace(/./g, (c) => SUPERSCRIPT[c] ?? c);
  return `${mantissa} × 10${power}`;
}

/** "57–71%" or "0.24–0.52"; null when the interval was not computed. */
export function formatInterval(estimate: Estimate, format: (v: number) => string): string | null {
  if (!known(estimate.ci_low) || !known(estimate.ci_high)) return null;
  const low = format(estimate.ci_low);
  const high = format(estimate.ci_high);
  if (low.endsWith("%") && high.endsWith("%")) return `${low.slice(0, -1)}–${high}`;
  return `${low} to ${high}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

export interface HeadlineCard {
  key: keyof Agreement;
  title: string;
  explanation: string;
  value: string;
  interval: string | null;
  n: string;
  missing: boolean;
}

const HEADLINES: { key: keyof Agreement; title: string; explanation: string; share: boolean; unit: string }[] = [
  {
    key: "percent_agreement",
    title: "Percent agreement",
    explanation: "How often two raters order a pair of responses the same way (a tie agrees only with a tie).",
    share: true,
    unit: "response pair",
  },
  {
    key: "percent_agreement_no_ties",
    title: "Agreement without ties",
    explanation: "The same, leaving out the ratings that called a pair a tie.",
    share: true,
    unit: "response pair",
  },
  {
    key: "alpha_pairwise",
    title: "Krippendorff's α, pairs",
    explanation: "Agreement on each pair's outcome beyond what chance gives: 1 is perfect, 0 is chance.",
    share: false,
    unit: "response pair",
  },
  {
    key: "alpha_ranks",
    title: "Krippendorff's α, ranks",
    explanation: "The same over the rank each response got in each judgment.",
    share: false,
    unit: "ranked response",
  },
  {
    key: "fleiss_kappa",
    title: "Fleiss' κ",
    explanation: "Chance-corrected agreement on each pair's outcome (better, worse or tie) as categories.",
    share: false,
    unit: "response pair",
  },
  {
    key: "kendalls_w",
    title: "Kendall's W",
    explanation: "How alike raters' full rankings of a task are: 1 identical, 0 unrelated.",
    share: false,
    unit: "task",
  },
];

/** The agreement cards, in order; Kendall's W only when the report has it, and no rank figures
 * for a pairwise campaign (with two responses the ranks say what the pair's outcome says). */
export function headlineCards(agreement: Agreement, pairwise = false): HeadlineCard[] {
  return HEADLINES.flatMap(({ key, title, explanation, share, unit }) => {
    const estimate = agreement[key];
    if (!estimate || (pairwise && key === "alpha_ranks")) return [];
    const format = share ? formatShare : formatCoefficient;
    const missing = !known(estimate.value);
    return [
      {
        key,
        title,
        explanation,
        value: format(estimate.value),
        interval: missing ? null : formatInterval(estimate, format),
        n: plural(estimate.n, unit),
        missing,
      },
    ];
  });
}

/** The ceiling sentence: raters' agreement on which response wins bounds a reward model's
 * accuracy on held-out pairs labelled by the same raters. */
/** The human figure a reward model's held-out consensus accuracy is compared with: a rater
 * against the other raters' decided majority, ties left out (leave-one-out). */
export function ceilingSentence(agreement: Agreement): string {
  const estimate = agreement.consensus_agreement;
  if (!known(estimate.value)) {
    return "Once two or more raters judge the same pairs, how often one agrees with the others' majority tells you the ceiling a reward model can reach on this data.";
  }
  const interval = formatInterval(estimate, formatShare);
  return (
    `A rater picks the winner the other raters' majority picks in ${formatShare(estimate.value)} of decided pairs${interval ? ` (95% CI ${interval})` : ""}: ` +
    "that is the ceiling a reward model can reach on this data, since it is scored the same way, against held-out consensus pairs. " +
    "A held-out accuracy within that interval is as good as the data allows."
  );
}

export function consensusSentence(report: QualityReport): string {
  const { tasks, clear_top_share } = report.consensus;
  if (tasks === 0) return "No task has judgments yet.";
  const share = known(clear_top_share)
    ? `${formatShare(clear_top_share)} of them have a clear best response (a Bradley–Terry fit over all raters gives it at least a 75% chance of beating the runner-up).`
    : "Whether they have a clear best response: not enough data.";
  return `${plural(tasks, "task")} have a consensus ranking; ${share}`;
}

/** Agreement per period, with its interval as a band, and α as a second line. */
export function overTimeSeries(report: QualityReport): LineSeries[] {
  const points = report.over_time.filter((p) => known(p.percent_agreement.value));
  const alpha = report.over_time.filter((p) => known(p.alpha_pairwise.value));
  return [
    {
      name: "Percent agreement",
      points: points.map((p) => ({
        x: new Date(p.start),
        y: p.percent_agreement.value as number,
        ...(known(p.percent_agreement.ci_low) && known(p.percent_agreement.ci_high)
          ? { low: p.percent_agreement.ci_low, high: p.percent_agreement.ci_high }
          : {}),
      })),
    },
    {
      name: "Krippendorff's α",
      dashed: true,
      points: alpha.map((p) => ({ x: new Date(p.start), y: p.alpha_pairwise.value as number })),
    },
  ];
}

const DAY_MS = 86_400_000;

/** The report buckets by day, or by week for campaigns longer than 90 days; weekly buckets
 * start 7 days apart (or a multiple, when a week had no judgments). */
export function overTimeUnit(report: QualityReport): "day" | "week" {
  const starts = report.over_time.map((p) => Date.parse(p.start));
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  return gaps.length > 0 && gaps.every((gap) => gap % (7 * DAY_MS) === 0) && starts[starts.length - 1] - starts[0] > 90 * DAY_MS
    ? "week"
    : "day";
}

/** [low, 1] with low 0 unless some α is below zero. */
export function overTimeDomain(series: LineSeries[]): [number, number] {
  const lowest = Math.min(0, ...series.flatMap((s) => s.points.flatMap((p) => [p.y, p.low ?? p.y])));
  return [Math.floor(lowest * 10) / 10, 1];
}

/** Everyone pooled, or null when nobody has judged yet (the report sends {}). */
export function campaignFigures(report: QualityReport): CampaignFigures | null {
  const figures = report.campaign;
  return "position_bias" in figures ? (figures as CampaignFigures) : null;
}

export type RaterTest = "position_bias" | "length_bias" | "loo_agreement" | "fast_share";

export interface TestChart {
  test: RaterTest;
  title: string;
  description: string;
  reference: number | null;
  referenceLabel: string;
  xLabel: string;
}

/** One interval chart per test, each with the line a rater is compared with. */
export function testCharts(settings: ReportSettings): TestChart[] {
  return [
    {
      test: "position_bias",
      title: "Position bias: share choosing the response shown first",
      description: "Each rater's share of judgments won by the response shown first, with its 95% interval; 0.5 is no bias.",
      reference: 0.5,
      referenceLabel: "0.5 no bias",
      xLabel: "Share choosing the first shown",
    },
    {
      test: "length_bias",
      title: "Length bias: share choosing the longer response",
      description:
        "Each rater's share of pairs won by the longer response, with its 95% interval; the flag comes from a logistic fit that allows for what other raters chose.",
      reference: 0.5,
      referenceLabel: "0.5",
      xLabel: "Share choosing the longer",
    },
    {
      test: "loo_agreement",
      title: "Agreement with the other raters (leave one out)",
      description: "Each rater's share of pairs judged as the other raters' majority did, with its 95% interval; the line is the median rater.",
      reference: settings.loo_reference,
      referenceLabel: settings.loo_reference === null ? "" : `median ${formatShare(settings.loo_reference)}`,
      xLabel: "Agreement with the others' majority",
    },
    {
      test: "fast_share",
      title: "Too fast: share of judgments faster than the reading floor",
      description: `Each rater's share of judgments under ${settings.reading_floor_ms_per_char} ms per character shown, with its 95% interval; the line is the share allowed.`,
      reference: settings.fast_share_allowed,
      referenceLabel: `${formatShare(settings.fast_share_allowed)} allowed`,
      xLabel: "Share too fast",
    },
  ];
}

/** A rater's test as a row of an interval chart (raters with no value are left out). */
export function testItems(rows: readonly RaterRow[], test: RaterTest): IntervalItem[] {
  return rows.flatMap((row) => {
    const estimate: TestedEstimate = row[test];
    if (!known(estimate.value)) return [];
    const value = estimate.value;
    const p = known(estimate.p_adjusted) ? `, p = ${formatP(estimate.p_adjusted)} after Holm` : row.tested ? "" : ", too few judgments to test";
    return [
      {
        id: row.rater_id,
        label: row.username,
        value,
        low: known(estimate.ci_low) ? estimate.ci_low : value,
        high: known(estimate.ci_high) ? estimate.ci_high : value,
        flagged: estimate.flagged,
        note: `n = ${estimate.n}${p}`,
      },
    ];
  });
}

export const FLAG_WORDS: Record<FlagName, string> = {
  position_bias: "position bias",
  length_bias: "length bias",
  speed: "too fast",
  straight_lining: "straight-lining",
  outlier: "outlier vs others",
  gold: "gold below threshold",
};

export function flagWords(flag: string): string {
  return FLAG_WORDS[flag as FlagName] ?? flag.replace(/_/g, " ");
}

function pText(test: TestedEstimate): string {
  if (!known(test.p_value)) return "";
  const adjusted = known(test.p_adjusted) ? `, ${formatP(test.p_adjusted)} after Holm's correction` : "";
  return `p = ${formatP(test.p_value)}${adjusted}`;
}

function withCi(estimate: Estimate): string {
  const interval = formatInterval(estimate, formatShare);
  return `${formatShare(estimate.value)}${interval ? ` (95% CI ${interval})` : ""}`;
}

export interface FlagReason {
  flag: string;
  /** The flag in words: "position bias". */
  name: string;
  /** The figures behind it, in a sentence. */
  detail: string;
  /** The p-value(s), or "" (the gold rule is a threshold, not a test). */
  p: string;
}

/** Each of a rater's flags in words, with the figures and p-values behind it. */
export function flagReasons(row: RaterRow, settings: ReportSettings): FlagReason[] {
  return row.flags.map((flag) => {
    const name = flagWords(flag);
    switch (flag) {
      case "position_bias":
        return {
          flag,
          name,
          detail: `Chose the response shown first in ${withCi(row.position_bias)} of ${plural(row.position_bias.n, "judgment")}; without bias it would be about 50%.`,
          p: pText(row.position_bias),
        };
      case "length_bias": {
        const slope = row.length_bias.slope;
        const reference = settings.length_slope_reference;
        return {
          flag,
          name,
          detail:
            `Chose the longer response in ${withCi(row.length_bias)} of ${plural(row.length_bias.n, "pair")}; ` +
            `length slope ${formatCoefficient(slope)}${known(row.length_bias.slope_se) ? ` (SE ${formatCoefficient(row.length_bias.slope_se)})` : ""}` +
            `${known(reference) ? ` against the median rater's ${formatCoefficient(reference)}` : ""}` +
            `${known(slope) ? (slope > 0 ? ", favouring longer answers" : ", favouring shorter answers") : ""}.`,
          p: pText(row.length_bias),
        };
      }
      case "speed":
        return {
          flag,
          name,
          detail:
            `${withCi(row.fast_share)} of ${plural(row.fast_share.n, "judgment")} were faster than ${settings.reading_floor_ms_per_char} ms per character shown ` +
            `(${formatShare(settings.fast_share_allowed)} allowed)${known(row.median_time_ms) ? `; median time ${formatDuration(row.median_time_ms)}` : ""}.`,
          p: pText(row.fast_share),
        };
      case "straight_lining":
        return {
          flag,
          name,
          detail: `Answered by position (the same side, or the order shown) in ${withCi(row.straight_lining)} of ${plural(row.straight_lining.n, "judgment")}.`,
          p: pText(row.straight_lining),
        };
      case "outlier":
        return {
          flag,
          name,
          detail:
            `Agreed with the other raters' majority in ${withCi(row.loo_agreement)} of ${plural(row.loo_agreement.n, "judgment")}` +
            `${known(settings.loo_reference) ? `, against the median rater's ${formatShare(settings.loo_reference)}` : ""}; ` +
            `more than ${Math.round(settings.outlier_margin * 100)} points below the median makes an outlier.`,
          p: pText(row.loo_agreement),
        };
      case "gold":
        return {
          flag,
          name,
          detail:
            `Gold accuracy ${withCi(row.gold_accuracy)} over ${plural(row.gold_accuracy.items, "gold task")}` +
            `${known(settings.gold_threshold) ? `, below the campaign's ${formatShare(settings.gold_threshold)} threshold` : ""}.`,
          p: "",
        };
      default:
        return { flag, name, detail: "", p: "" };
    }
  });
}

/** A short figure per flag, for the pause reason and compact tables. */
function flagFigure(row: RaterRow, flag: string): string {
  switch (flag) {
    case "position_bias":
      return `first shown chosen ${formatShare(row.position_bias.value)}, p = ${formatP(row.position_bias.p_adjusted)}`;
    case "length_bias":
      return `longer chosen ${formatShare(row.length_bias.value)}, p = ${formatP(row.length_bias.p_adjusted)}`;
    case "speed":
      return `${formatShare(row.fast_share.value)} too fast, p = ${formatP(row.fast_share.p_adjusted)}`;
    case "straight_lining":
      return `same position ${formatShare(row.straight_lining.value)}, p = ${formatP(row.straight_lining.p_adjusted)}`;
    case "outlier":
      return `agreement ${formatShare(row.loo_agreement.value)}, p = ${formatP(row.loo_agreement.p_adjusted)}`;
    case "gold":
      return `gold accuracy ${formatShare(row.gold_accuracy.value)} over ${row.gold_accuracy.items}`;
    default:
      return "";
  }
}

/** The pause reason offered for a flagged rater (the server keeps at most 500 characters). */
export function pauseReason(row: RaterRow, campaign: string): string {
  const flags = row.flags.map((flag) => `${flagWords(flag)} (${flagFigure(row, flag)})`).join("; ");
  const text = `Quality report for “${campaign}”: ${flags}.`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

/** 18560 → "18.6 s"; 95000 → "1 min 35 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (!known(ms)) return NOT_ENOUGH;
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** Flagged raters first (most flags first), then by name. */
export function flaggedRows(report: QualityReport): RaterRow[] {
  return report.rater_rows
    .filter((row) => row.flags.length > 0)
    .sort((a, b) => b.flags.length - a.flags.length || a.username.localeCompare(b.username));
}

/** How a chi-square comparison across groups reads. */
export function comparisonP(p: number | null): string {
  return known(p) ? `p = ${formatP(p)}` : "not tested (needs two groups or more)";
}

/** The figures a rater row's quality columns show, keyed by rater id. */
export function rowsById(report: QualityReport | null): Map<number, RaterRow> {
  return new Map((report?.rater_rows ?? []).map((row) => [row.rater_id, row]));
}

/** A share with its 95% interval in brackets: "62% (55%–69%)". */
export function shareWithCi(estimate: Estimate): string {
  const interval = formatInterval(estimate, formatShare);
  return `${formatShare(estimate.value)}${interval ? ` (${interval})` : ""}`;
}
