/** Where a model version came from: its parent chain, and the data each link was trained on. */

import type { DatasetFilters, NamedRef, Version } from "./types";

/** The version and its ancestors, newest first, from the versions the page holds. A parent
 * it does not hold ends the chain (marked `truncated`); a loop in bad data ends it too. */
export function lineageOf(version: Version, all: readonly Version[]): { chain: Version[]; truncated: boolean } {
  const byId = new Map(all.map((v) => [v.id, v]));
  const chain: Version[] = [version];
  const seen = new Set([version.id]);
  let parent = version.parent;
  while (parent) {
    const next = byId.get(parent.id);
    if (!next || seen.has(next.id)) return { chain, truncated: !next };
    chain.push(next);
    seen.add(next.id);
    parent = next.parent;
  }
  return { chain, truncated: false };
}

/** "policy-3 ← policy-1 ← smollm2": a chain as one line, ending at the base model. */
export function lineageLine(chain: readonly Pick<Version, "name" | "base">[], truncated = false): string {
  const names = chain.map((v) => v.name);
  const root = chain[chain.length - 1];
  if (truncated) names.push("…");
  else if (root && root.base && root.base !== root.name) names.push(root.base);
  return names.join(" ← ");
}

function namesOf(ids: readonly number[], known: readonly NamedRef[]): string {
  const byId = new Map(known.map((item) => [item.id, item.name]));
  return ids.map((id) => byId.get(id) ?? `#${id}`).join(", ");
}

function day(iso: string | null): string | null {
  return iso ? iso.slice(0, 10) : null;
}

const UNSAFE_TEXT: Record<NonNullable<DatasetFilters["unsafe"]>, string> = {
  below: "answers flagged unsafe ranked below the safe ones",
  drop: "no pair with an answer flagged unsafe",
  ignore: "unsafe flags not applied",
  safety: "only pairs of a safe and an unsafe answer (safety set)",
};

/** A dataset's filters as one readable sentence. */
export function describeDataset(
  dataset: Partial<DatasetFilters> | null | undefined,
  campaigns: readonly NamedRef[] = [],
  pools: readonly NamedRef[] = [],
): string {
  if (!dataset || Object.keys(dataset).length === 0) return "No data filters (not trained on preferences).";
  const parts = [dataset.mode === "all" ? "All judgments" : "Consensus pairs"];
  parts.push(dataset.campaign_ids?.length ? `from ${namesOf(dataset.campaign_ids, campaigns)}` : "from every campaign");
  const since = day(dataset.since ?? null);
  const until = day(dataset.until ?? null);
  if (since && until) parts.push(`${since} to ${until}`);
  else if (since) parts.push(`since ${since}`);
  else if (until) parts.push(`until ${until}`);
  if (dataset.pool_ids?.length) parts.push(`pools ${namesOf(dataset.pool_ids, pools)}`);
  if (dataset.min_rater_quality !== null && dataset.min_rater_quality !== undefined)
    parts.push(`raters with quality ≥ ${dataset.min_rater_quality}`);
  const excluded = [
    dataset.exclude_paused ? "paused raters" : null,
    dataset.exclude_gold ? "gold tasks" : null,
    dataset.exclude_all_bad ? "judgments flagged all bad" : null,
  ].filter(Boolean);
  if (excluded.length) parts.push(`without ${excluded.join(" or ")}`);
  if (dataset.unsafe) parts.push(UNSAFE_TEXT[dataset.unsafe]);
  if (dataset.model_labels) parts.push("with the reward model’s labels");
  return `${parts.join(", ")}.`;
}
