/** Figures derived in the browser from what the campaign API sends. */

import type { Campaign } from "./api";

export interface Progress {
  complete: number;
  total: number;
  /** 0..1; 0 when there are no tasks. */
  fraction: number;
  text: string;
}

export function taskProgress(campaign: Pick<Campaign, "task_count" | "complete_count">): Progress {
  const total = campaign.task_count ?? 0;
  const complete = Math.min(campaign.complete_count ?? 0, total);
  const fraction = total > 0 ? complete / total : 0;
  const text = total > 0 ? `${complete} / ${total} tasks (${Math.floor(fraction * 100)} %)` : "No tasks yet";
  return { complete, total, fraction, text };
}

function localDay(ms: number): number {
  const day = new Date(ms);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/** Judgments per local calendar day, every day from the first to the last (zeros included). */
export function countPerDay(timestamps: readonly string[]): { day: number; count: number }[] {
  const counts = new Map<number, number>();
  for (const stamp of timestamps) {
    const ms = Date.parse(stamp);
    if (Number.isNaN(ms)) continue;
    const day = localDay(ms);
    counts.set(day, (counts.get(day) ?? 0) + 1);
  }
  if (counts.size === 0) return [];
  const days = [...counts.keys()].sort((a, b) => a - b);
  const result: { day: number; count: number }[] = [];
  for (const cursor = new Date(days[0]); cursor.getTime() <= days[days.length - 1]; cursor.setDate(cursor.getDate() + 1)) {
    result.push({ day: cursor.getTime(), count: counts.get(cursor.getTime()) ?? 0 });
  }
  return result;
}
