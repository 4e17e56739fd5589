/** A campaign's retraining schedule as the editor types it ↔ the API's payload. */

import type { FieldErrors } from "../shared/errors";
import type { PolicyKind, Schedule, ScheduleRequest } from "./types";

export interface ScheduleDraft {
  enabled: boolean;
  /** "" for no judgment trigger. */
  every_n_judgments: string;
  cron: string;
  policy_kind: PolicyKind;
  generate_prompts: string;
  responses_per_prompt: string;
  /** A reward version's id, or "" for none: the second judge of each round's watch. */
  check_reward_version_id: string;
  /** The promotion gate's arena campaign id, or "" for no gate. */
  arena_campaign_id: string;
  /** The most comparisons the gate waits for before it decides. */
  gate_max_comparisons: string;
}

export const EMPTY_SCHEDULE: ScheduleDraft = {
  enabled: true,
  every_n_judgments: "200",
  cron: "",
  policy_kind: "ppo",
  generate_prompts: "20",
  responses_per_prompt: "4",
  check_reward_version_id: "",
  arena_campaign_id: "",
  gate_max_comparisons: "100",
};

export function scheduleDraft(schedule: Schedule): ScheduleDraft {
  return {
    enabled: schedule.enabled,
    every_n_judgments: schedule.every_n_judgments === null ? "" : String(schedule.every_n_judgments),
    cron: schedule.cron,
    policy_kind: schedule.policy_kind,
    generate_prompts: String(schedule.generate_prompts),
    responses_per_prompt: String(schedule.responses_per_prompt),
    check_reward_version_id: schedule.check_reward_version ? String(schedule.check_reward_version.id) : "",
    arena_campaign_id: schedule.arena_campaign ? String(schedule.arena_campaign.id) : "",
    gate_max_comparisons: String(schedule.gate_max_comparisons),
  };
}

// minute hour day-of-month month day-of-week, each a list of values, ranges and steps.
/** The fewest comparisons a promotion gate may be given: it looks once per 10 (the server's
 * GATE_MIN_COMPARISONS). */
export const GATE_MIN_COMPARISONS = 10;

const CRON_FIELD = /^(\*|[0-9a-z]+(-[0-9a-z]+)?)(\/[0-9]+)?(,(\*|[0-9a-z]+(-[0-9a-z]+)?)(\/[0-9]+)?)*$/i;
const CRON_MAX = [59, 23, 31, 12, 7];

/** The problem with a crontab as typed, or null; the server's parser has the last word. */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return "A cron has five fields: minute hour day month weekday (e.g. 0 3 * * *).";
  for (const [index, field] of fields.entries()) {
    if (!CRON_FIELD.test(field)) return `“${field}” is not a cron field.`;
    const numbers = field.match(/\d+/g)?.map(Number) ?? [];
    const stepless = field.replace(/\/\d+/g, "");
    const tooBig = (stepless.match(/\d+/g)?.map(Number) ?? []).some((n) => n > CRON_MAX[index]);
    if (tooBig || numbers.some((n) => !Number.isFinite(n))) return `“${field}” is out of range for that field.`;
  }
  return null;
}

function wholeNumber(typed: string, min: number, max: number): string | null {
  const value = Number(typed.trim());
  if (typed.trim() === "" || !Number.isInteger(value)) return "Enter a whole number.";
  if (value < min || value > max) return `Enter a number from ${min} to ${max}.`;
  return null;
}

export function validateSchedule(draft: ScheduleDraft): FieldErrors {
  const errors: FieldErrors = {};
  const every = draft.every_n_judgments.trim();
  const cron = draft.cron.trim();
  if (every !== "") {
    const problem = wholeNumber(every, 1, 1_000_000);
    if (problem) errors.every_n_judgments = [problem];
  }
  if (cron !== "") {
    const problem = cronProblem(cron);
    if (problem) errors.cron = [problem];
  }
  if (draft.enabled && every === "" && cron === "")
    errors.every_n_judgments = ["Set a number of judgments, a cron, or both: otherwise it never fires."];
  const prompts = wholeNumber(draft.generate_prompts, 1, 100_000);
  if (prompts) errors.generate_prompts = [prompts];
  const k = wholeNumber(draft.responses_per_prompt, 2, 16);
  if (k) errors.responses_per_prompt = [k];
  const gate = wholeNumber(draft.gate_max_comparisons, GATE_MIN_COMPARISONS, 100_000);
  if (gate) errors.gate_max_comparisons = [gate];
  return errors;
}

export function scheduleRequest(draft: ScheduleDraft): ScheduleRequest {
  const every = draft.every_n_judgments.trim();
  return {
    enabled: draft.enabled,
    every_n_judgments: every === "" ? null : Number(every),
    cron: draft.cron.trim(),
    policy_kind: draft.policy_kind,
    generate_prompts: Number(draft.generate_prompts),
    responses_per_prompt: Number(draft.responses_per_prompt),
    check_reward_version_id: draft.check_reward_version_id === "" ? null : Number(draft.check_reward_version_id),
    arena_campaign_id: draft.arena_campaign_id === "" ? null : Number(draft.arena_campaign_id),
    gate_max_comparisons: Number(draft.gate_max_comparisons),
  };
}

/** Only what changed, for a PATCH. */
export function scheduleChanges(before: ScheduleDraft, after: ScheduleDraft): Partial<ScheduleRequest> {
  const a = scheduleRequest(before);
  const b = scheduleRequest(after);
  return Object.fromEntries(
    (Object.keys(b) as (keyof ScheduleRequest)[]).filter((key) => a[key] !== b[key]).map((key) => [key, b[key]]),
  ) as Partial<ScheduleRequest>;
}

/** "142 of 200 judgments since the last round": how close the next firing is. */
export function triggerProgress(schedule: Pick<Schedule, "every_n_judgments" | "judgments_since_last_fire">): {
  text: string;
  fraction: number | null;
} {
  const since = schedule.judgments_since_last_fire;
  const every = schedule.every_n_judgments;
  const noun = since === 1 ? "judgment" : "judgments";
  if (!every) return { text: `${since} ${noun} since the last round`, fraction: null };
  return { text: `${since} of ${every} judgments since the last round`, fraction: Math.min(1, since / every) };
}
