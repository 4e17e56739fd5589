/** How a run's progress, time left and timestamps read on the dashboard. */

import type { RunKind, RunStatus } from "./types";

/** Seconds left as a person says it ("3 min 20 s", "2 h 05 min"); null when unknown. */
export function formatEta(etaS: number | null | undefined): string | null {
  if (etaS === null || etaS === undefined || !Number.isFinite(etaS) || etaS < 0) return null;
  const seconds = Math.round(etaS);
  if (seconds < 1) return "under 1 s";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
  const hours = Math.round(minutes / 60);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** 0..1 as a whole percent, rounded down so "100 %" means done. */
export function percentOf(progress: number): number {
  if (!Number.isFinite(progress)) return 0;
  return Math.floor(Math.min(1, Math.max(0, progress)) * 100 + 1e-9);
}

/** "Step 40 of 200 · 3 min 20 s left", or what is known of it. */
export function progressText(run: {
  status: RunStatus;
  step: number;
  total_steps: number;
  eta_s: number | null;
  cancel_requested?: boolean;
}): string {
  if (run.status === "queued") return "Waiting for a GPU worker";
  const steps = run.total_steps > 0 ? `Step ${run.step} of ${run.total_steps}` : `Step ${run.step}`;
  if (run.status !== "running") return steps;
  if (run.cancel_requested) return `${steps} · stopping`;
  // The server counts the time left down at every heartbeat; at 0 the run is still busy.
  if (run.eta_s !== null && run.eta_s <= 0) {
    const last = run.total_steps > 0 && run.step >= run.total_steps;
    return `${steps} · ${last ? "finishing up" : "this step is taking longer than estimated"}`;
  }
  const eta = formatEta(run.eta_s);
  return `${steps} · ${eta ? `${eta} left` : "estimating time left"}`;
}

/** A timestamp in the reader's locale, short; "–" for none or nonsense. */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "–";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** How long between two timestamps ("4 min 10 s"); null when either is missing. */
export function durationBetween(start: string | null, end: string | null): string | null {
  if (!start || !end) return null;
  const seconds = (new Date(end).getTime() - new Date(start).getTime()) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? formatEta(seconds) : null;
}

export const KIND_NAMES: Record<RunKind, string> = {
  reward: "Reward model",
  ppo: "PPO round",
  dpo: "DPO round",
  grpo: "GRPO round",
  rloo: "RLOO round",
  generate: "Generation",
  evaluate: "Evaluation",
  judge: "LLM judge",
  arena: "Arena answers",
};

export const STATUS_NAMES: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** A number for a table: up to 4 significant digits, "–" for none. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** A short hash for reading; the whole one is in the title. */
export function shortHash(hash: string): string {
  return hash ? hash.slice(0, 12) : "–";
}
