/**
 * The quality report (GET /api/v1/campaigns/{id}/quality/). The endpoint is typed as a free-form
 * object in the OpenAPI schema, so this mirrors the dict built by `build_report` at the bottom
 * of annotation/quality/report.py (plus `campaign_id` and `campaign_name`, which
 * annotation/services/quality.py adds). Keep the two in step.
 *
 * Every figure may be null (undefined for lack of data); the server never sends NaN.
 */

/** A statistic with its 95% interval and the number of units it rests on (`Estimate.as_dict`,
 * or `_estimate` for proportions with a Wilson interval). */
export interface Estimate {
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n: number;
}

/** One rater's test: a proportion, its p-value, the Holm-adjusted p-value, and the flag. */
export interface TestedEstimate extends Estimate {
  p_value: number | null;
  p_adjusted: number | null;
  flagged: boolean;
}

export interface LengthTest extends TestedEstimate {
  /** Log-odds shift towards the longer response in the rater's logistic fit; > 0 prefers longer. */
  slope: number | null;
  slope_se: number | null;
}

export interface ReportSettings {
  test_level: number;
  min_judgments: number;
  outlier_margin: number;
  fast_share_allowed: number;
  straight_line_share: number;
  min_group_raters: number;
  n_boot: number;
  seed: number;
  reading_floor_ms_per_char: number;
  gold_threshold: number | null;
  gold_min_items: number;
  loo_reference: number | null;
  length_slope_reference: number | null;
}

export interface Agreement {
  percent_agreement: Estimate;
  percent_agreement_no_ties: Estimate;
  alpha_pairwise: Estimate;
  alpha_ranks: Estimate;
  fleiss_kappa: Estimate;
  /** Only when some judgments rank three or more responses. */
  kendalls_w: Estimate | null;
}

export interface Consensus {
  tasks: number;
  /** Share of tasks whose best response beats the runner-up with fitted probability >= 0.75. */
  clear_top_share: number | null;
  /** Mean fitted probability that a task's best response beats its runner-up. */
  mean_top_probability: number | null;
}

export interface OverTimePoint {
  /** ISO date-time of the period's start (a day, or a week for long campaigns). */
  start: string;
  judgments: number;
  percent_agreement: Estimate;
  /** No interval here (no bootstrap per period). */
  alpha_pairwise: Estimate;
}

/** A group of raters' pooled figures (`pooled` in build_report). */
export interface PooledFigures {
  raters: number;
  judgments: number;
  loo_agreement: Estimate;
  position_bias: Estimate & { p_value: number | null };
  length_bias: Estimate & { slope?: number | null; slope_se?: number | null };
  fast_share: Estimate;
  flagged_raters: number;
}

export interface GroupFigures extends PooledFigures {
  name: string;
}

/** Pools or one self-reported attribute, compared (`compare` in build_report). */
export interface Comparison {
  groups: GroupFigures[];
  /** Groups with fewer than `settings.min_group_raters` raters: not compared. */
  left_out: string[];
  loo_agreement_p_value: number | null;
  position_bias_p_value: number | null;
}

export type FlagName = "position_bias" | "length_bias" | "speed" | "straight_lining" | "outlier" | "gold";

export interface RaterRow {
  rater_id: number;
  username: string;
  status: string;
  pools: string[];
  judgments: number;
  /** Enough judgments (settings.min_judgments) to be tested. */
  tested: boolean;
  loo_agreement: TestedEstimate;
  gold_accuracy: Estimate & { items: number };
  median_time_ms: number | null;
  fast_share: TestedEstimate;
  straight_lining: TestedEstimate;
  self_consistency: Estimate & { repeats: number };
  position_bias: TestedEstimate;
  length_bias: LengthTest;
  flags: FlagName[];
}

export interface QualityReport {
  generated_at: string;
  judgments: number;
  pairs: number;
  raters: number;
  settings: ReportSettings;
  agreement: Agreement;
  consensus: Consensus;
  over_time: OverTimePoint[];
  /** Everyone pooled ({} when nobody judged yet). */
  campaign: PooledFigures | Record<string, never>;
  pools: Comparison;
  /** Self-reported attribute (consented raters only) → its groups compared. */
  demographics: Record<string, Comparison>;
  rater_rows: RaterRow[];
  flagged_raters: number[];
  campaign_id?: number;
  campaign_name?: string;
}
