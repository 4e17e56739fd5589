/** The side-by-side comparison of two versions: which metric moved which way. */

import type { Comparison, Version } from "./types";

export type Direction = "higher" | "lower" | null;

/** Which way is better for a metric, from its name; null when neither is. */
export function betterDirection(name: string): Direction {
  const key = name.toLowerCase();
  if (/loss|(^|[/_])kl($|[/_])|perplexity|error/.test(key)) return "lower";
  if (/accuracy|reward|win_rate|agreement|margin/.test(key)) return "higher";
  return null;
}

export interface ComparisonRow {
  name: string;
  a: number | null;
  b: number | null;
  /** b − a, when both are known. */
  delta: number | null;
  /** The better side, when the metric has a direction and they differ. */
  better: "a" | "b" | null;
}

export function comparisonRows(metrics: Comparison["metrics"]): ComparisonRow[] {
  return metrics.map(({ name, a, b }) => {
    const known = typeof a === "number" && typeof b === "number" && Number.isFinite(a) && Number.isFinite(b);
    const delta = known ? (b as number) - (a as number) : null;
    const direction = betterDirection(name);
    let better: "a" | "b" | null = null;
    if (delta !== null && delta !== 0 && direction) better = (delta > 0) === (direction === "higher") ? "b" : "a";
    return { name, a: a ?? null, b: b ?? null, delta, better };
  });
}

/** The reward model an evaluation scores with: the newest reward version. */
export function newestRewardVersion(versions: readonly Version[]): Version | null {
  return versions
    .filter((v) => v.kind === "reward")
    .reduce<Version | null>((best, v) => (!best || v.created_at > best.created_at || (v.created_at === best.created_at && v.id > best.id) ? v : best), null);
}

/** Mean reward of each side over the samples that carry one. */
export function sampleRewardMeans(samples: Comparison["samples"]): { a: number | null; b: number | null } {
  const mean = (values: (number | null)[]) => {
    const known = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    return known.length ? known.reduce((sum, v) => sum + v, 0) / known.length : null;
  };
  return { a: mean(samples.map((s) => s.reward_a)), b: mean(samples.map((s) => s.reward_b)) };
}
