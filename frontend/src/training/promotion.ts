/** A policy version's promotion gate in words: the API's promotion and promotion_detail read
 * defensively (the detail is free-form JSON, {} when there is no gate). */

import type { Tone } from "../shared/Badge";
import type { Promotion } from "./types";

export interface PromotionDetail {
  arena_campaign_id: number | null;
  arena_campaign: string;
  arena_run_id: number | null;
  rival: string;
  rival_version_id: number | null;
  max_comparisons: number | null;
  min_comparisons: number | null;
  comparisons: number;
  wins: number;
  win_probability: number | null;
  low: number | null;
  high: number | null;
  /** The interval's two-sided confidence (the gate splits its error over its looks). */
  confidence: number | null;
  /** How many comparisons the figures are from (the gate looks once per 10). */
  looked_at: number | null;
  decided_at: string | null;
  reason: string;
  generation_run_id: number | null;
}

export const PROMOTION_NAMES: Record<Exclude<Promotion, "">, string> = {
  pending: "Waiting on the arena",
  promoted: "Promoted",
  held: "Kept, not promoted",
};

export const PROMOTION_TONES: Record<Exclude<Promotion, "">, Tone> = {
  pending: "accent",
  promoted: "ok",
  held: "warn",
};

function numberOr(value: unknown, fallback: number | null): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The gate's figures, or null when there is no gate (an empty or malformed detail). */
export function readPromotion(detail: unknown): PromotionDetail | null {
  if (typeof detail !== "object" || detail === null || Array.isArray(detail) || Object.keys(detail).length === 0) return null;
  const d = detail as Record<string, unknown>;
  return {
    arena_campaign_id: numberOr(d.arena_campaign_id, null),
    arena_campaign: text(d.arena_campaign),
    arena_run_id: numberOr(d.arena_run_id, null),
    rival: text(d.rival),
    rival_version_id: numberOr(d.rival_version_id, null),
    max_comparisons: numberOr(d.max_comparisons, null),
    min_comparisons: numberOr(d.min_comparisons, null),
    comparisons: numberOr(d.comparisons, 0) ?? 0,
    wins: numberOr(d.wins, 0) ?? 0,
    win_probability: numberOr(d.win_probability, null),
    low: numberOr(d.low, null),
    high: numberOr(d.high, null),
    confidence: numberOr(d.confidence, null),
    looked_at: numberOr(d.looked_at, null),
    decided_at: typeof d.decided_at === "string" ? d.decided_at : null,
    reason: text(d.reason),
    generation_run_id: numberOr(d.generation_run_id, null),
  };
}

function percent(value: number): string {
  return `${Math.round(value * 1000) / 10} %`;
}

/** "40 of at most 100 comparisons (at least 20 before it decides)". */
export function comparisonsText(detail: PromotionDetail): string {
  const noun = detail.comparisons === 1 ? "comparison" : "comparisons";
  const most = detail.max_comparisons === null ? `${detail.comparisons} ${noun}` : `${detail.comparisons} of at most ${detail.max_comparisons} ${noun}`;
  return detail.min_comparisons === null ? most : `${most} (at least ${detail.min_comparisons} before it decides)`;
}

/** "62.5 % (95 %: 51.2 % to 72.9 %)", or null before the gate's first look; the interval's
 * confidence as the gate used it, and how many comparisons the figures are from. */
export function winProbabilityText(detail: PromotionDetail): string | null {
  if (detail.win_probability === null) return null;
  const level = detail.confidence === null ? "95 %" : percent(detail.confidence);
  const interval = detail.low !== null && detail.high !== null ? ` (${level}: ${percent(detail.low)} to ${percent(detail.high)})` : "";
  const from = detail.looked_at !== null && detail.looked_at !== detail.comparisons ? ` over the first ${detail.looked_at} comparisons` : "";
  return `${percent(detail.win_probability)}${interval}${from}`;
}
