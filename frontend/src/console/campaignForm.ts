/** The campaign form: text fields as typed ↔ the API's payload, with the server's own limits
 * checked first so most mistakes are caught before a round trip (the server still decides). */

import type { Campaign, CampaignPatch, CampaignRequest, JudgmentMode, Routing } from "./api";
import type { FieldErrors } from "../shared/errors";

export interface CampaignDraft {
  name: string;
  guidelines: string;
  judgment_mode: JudgmentMode;
  responses_per_task: string;
  overlap: string;
  gold_rate: string;
  lease_ttl_s: string;
  onboarding_gold: string;
  repeat_rate: string;
  /** "" when the campaign has no automatic pause rule. */
  pause_gold_accuracy_below: string;
  pause_gold_min_items: string;
  reading_floor_ms_per_char: string;
  routing: Routing;
  routing_confidence: string;
  human_tasks_per_prompt: string;
  judge_model: string;
  /** Blind comparisons of named models' answers, two at a time. */
  is_arena: boolean;
}

/** The form's parts: the basics, and gold and quality control (the Gold section shows only
 * that part; the gold rate is in both). */
export type FormPart = "basics" | "quality";

export const CAMPAIGN_FIELDS = [
  "name",
  "guidelines",
  "judgment_mode",
  "responses_per_task",
  "overlap",
  "gold_rate",
  "lease_ttl_s",
  "onboarding_gold",
  "repeat_rate",
  "pause_gold_accuracy_below",
  "pause_gold_min_items",
  "reading_floor_ms_per_char",
  "routing",
  "routing_confidence",
  "human_tasks_per_prompt",
  "judge_model",
  "is_arena",
] as const;

export const QUALITY_FIELDS = [
  "gold_rate",
  "onboarding_gold",
  "repeat_rate",
  "pause_gold_accuracy_below",
  "pause_gold_min_items",
  "reading_floor_ms_per_char",
] as const;

const BASIC_FIELDS = [
  "name",
  "guidelines",
  "judgment_mode",
  "responses_per_task",
  "overlap",
  "gold_rate",
  "lease_ttl_s",
  "routing",
  "routing_confidence",
  "human_tasks_per_prompt",
  "judge_model",
  "is_arena",
] as const;

/** The fields a form with these parts shows. */
export function fieldsOf(parts: readonly FormPart[]): string[] {
  return [...new Set([...(parts.includes("basics") ? BASIC_FIELDS : []), ...(parts.includes("quality") ? QUALITY_FIELDS : [])])];
}

/** Only the errors of the fields shown: a hidden field cannot be fixed there. */
export function onlyFields(errors: FieldErrors, fields: readonly string[]): FieldErrors {
  return Object.fromEntries(Object.entries(errors).filter(([field]) => fields.includes(field)));
}

/** The server's defaults (annotation/models.py), for a campaign object that lacks a field. */
const API_DEFAULTS: Partial<Record<(typeof CAMPAIGN_FIELDS)[number], unknown>> = {
  guidelines: "",
  onboarding_gold: 0,
  repeat_rate: 0,
  pause_gold_accuracy_below: null,
  pause_gold_min_items: 10,
  reading_floor_ms_per_char: 15,
  routing: "everything",
  routing_confidence: 2,
  human_tasks_per_prompt: 0,
  judge_model: "smollm2",
  is_arena: false,
};

/** The limits the server enforces (annotation/api/admin_serializers.py). */
export const LIMITS = {
  responses_per_task: { min: 2, max: 16 },
  overlap: { min: 1, max: 100 },
  gold_rate: { min: 0, max: 1 },
  lease_ttl_s: { min: 30, max: 7 * 24 * 3600 },
  onboarding_gold: { min: 0, max: 1000 },
  repeat_rate: { min: 0, max: 0.5 },
  pause_gold_accuracy_below: { min: 0, max: 1 },
  pause_gold_min_items: { min: 1, max: 1000 },
  reading_floor_ms_per_char: { min: 0, max: 1000 },
  routing_confidence: { min: 0, max: 1000 },
  human_tasks_per_prompt: { min: 0, max: 1000 },
} as const;

export const EMPTY_DRAFT: CampaignDraft = {
  name: "",
  guidelines: "",
  judgment_mode: "rank",
  responses_per_task: "4",
  overlap: "3",
  gold_rate: "0",
  lease_ttl_s: "1800",
  onboarding_gold: "0",
  repeat_rate: "0",
  pause_gold_accuracy_below: "",
  pause_gold_min_items: "10",
  reading_floor_ms_per_char: "15",
  routing: "everything",
  routing_confidence: "2",
  human_tasks_per_prompt: "0",
  judge_model: "smollm2",
  is_arena: false,
};

export function draftFrom(campaign: Campaign): CampaignDraft {
  return {
    name: campaign.name,
    guidelines: campaign.guidelines ?? "",
    judgment_mode: campaign.judgment_mode ?? "rank",
    responses_per_task: String(campaign.responses_per_task ?? 4),
    overlap: String(campaign.overlap ?? 3),
    gold_rate: String(campaign.gold_rate ?? 0),
    lease_ttl_s: String(campaign.lease_ttl_s ?? 1800),
    onboarding_gold: String(campaign.onboarding_gold ?? 0),
    repeat_rate: String(campaign.repeat_rate ?? 0),
    pause_gold_accuracy_below: campaign.pause_gold_accuracy_below == null ? "" : String(campaign.pause_gold_accuracy_below),
    pause_gold_min_items: String(campaign.pause_gold_min_items ?? 10),
    reading_floor_ms_per_char: String(campaign.reading_floor_ms_per_char ?? 15),
    routing: campaign.routing ?? "everything",
    routing_confidence: String(campaign.routing_confidence ?? 2),
    human_tasks_per_prompt: String(campaign.human_tasks_per_prompt ?? 0),
    judge_model: campaign.judge_model ?? "smollm2",
    is_arena: campaign.is_arena ?? false,
  };
}

/** Pairwise means exactly two responses: switching the mode sets K to match. Leaving pairwise
 * leaves the arena too, which only compares pairs. */
export function withMode(draft: CampaignDraft, mode: JudgmentMode): CampaignDraft {
  return {
    ...draft,
    judgment_mode: mode,
    responses_per_task: mode === "pairwise" ? "2" : draft.responses_per_task,
    is_arena: mode === "pairwise" && draft.is_arena,
  };
}

/** An arena compares two models' answers at a time: turning it on sets pairwise mode and K = 2. */
export function withArena(draft: CampaignDraft, isArena: boolean): CampaignDraft {
  return isArena ? { ...withMode(draft, "pairwise"), is_arena: true } : { ...draft, is_arena: false };
}

function numberIn(text: string, limit: { min: number; max: number }, integer: boolean): string | null {
  const trimmed = text.trim();
  if (trimmed === "") return "Enter a number.";
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return "Enter a number.";
  if (integer && !Number.isInteger(value)) return "Enter a whole number.";
  if (value < limit.min || value > limit.max) return `Enter a number from ${limit.min} to ${limit.max}.`;
  return null;
}

/** Problems the form can see before sending, keyed like the server's field errors. */
export function validateDraft(draft: CampaignDraft): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string | null) => {
    if (message) errors[field] = [message];
  };
  if (!draft.name.trim()) add("name", "A campaign needs a name.");
  else if (draft.name.trim().length > 200) add("name", "At most 200 characters.");
  add("responses_per_task", numberIn(draft.responses_per_task, LIMITS.responses_per_task, true));
  add("overlap", numberIn(draft.overlap, LIMITS.overlap, true));
  add("gold_rate", numberIn(draft.gold_rate, LIMITS.gold_rate, false));
  add("lease_ttl_s", numberIn(draft.lease_ttl_s, LIMITS.lease_ttl_s, true));
  add("onboarding_gold", numberIn(draft.onboarding_gold, LIMITS.onboarding_gold, true));
  add("repeat_rate", numberIn(draft.repeat_rate, LIMITS.repeat_rate, false));
  if (draft.pause_gold_accuracy_below.trim() !== "") {
    add("pause_gold_accuracy_below", numberIn(draft.pause_gold_accuracy_below, LIMITS.pause_gold_accuracy_below, false));
  }
  add("pause_gold_min_items", numberIn(draft.pause_gold_min_items, LIMITS.pause_gold_min_items, true));
  add("reading_floor_ms_per_char", numberIn(draft.reading_floor_ms_per_char, LIMITS.reading_floor_ms_per_char, false));
  add("routing_confidence", numberIn(draft.routing_confidence, LIMITS.routing_confidence, false));
  add("human_tasks_per_prompt", numberIn(draft.human_tasks_per_prompt, LIMITS.human_tasks_per_prompt, true));
  if (draft.routing === "judge" && !draft.judge_model.trim()) add("judge_model", "Name the model that judges.");
  else if (draft.judge_model.trim().length > 200) add("judge_model", "At most 200 characters.");
  if (!errors.responses_per_task && draft.judgment_mode === "pairwise" && Number(draft.responses_per_task) !== 2) {
    add("responses_per_task", "A pairwise campaign has exactly 2 responses per task.");
  }
  if (draft.is_arena && draft.judgment_mode !== "pairwise") add("is_arena", "An arena compares two answers at a time: use pairwise mode.");
  return errors;
}

/** The create payload (call validateDraft first: numbers are taken as typed). */
export function createPayload(draft: CampaignDraft): CampaignRequest {
  return {
    name: draft.name.trim(),
    guidelines: draft.guidelines,
    judgment_mode: draft.judgment_mode,
    responses_per_task: Number(draft.responses_per_task),
    overlap: Number(draft.overlap),
    gold_rate: Number(draft.gold_rate),
    lease_ttl_s: Number(draft.lease_ttl_s),
    onboarding_gold: Number(draft.onboarding_gold),
    repeat_rate: Number(draft.repeat_rate),
    pause_gold_accuracy_below: draft.pause_gold_accuracy_below.trim() === "" ? null : Number(draft.pause_gold_accuracy_below),
    pause_gold_min_items: Number(draft.pause_gold_min_items),
    reading_floor_ms_per_char: Number(draft.reading_floor_ms_per_char),
    routing: draft.routing,
    routing_confidence: Number(draft.routing_confidence),
    human_tasks_per_prompt: Number(draft.human_tasks_per_prompt),
    // Left empty where no judge routes: the server's default, which it requires.
    judge_model: draft.judge_model.trim() || "smollm2",
    is_arena: draft.is_arena,
  };
}

/** Only what changed, for PATCH: an unchanged form sends {}. */
export function patchPayload(campaign: Campaign, draft: CampaignDraft): CampaignPatch {
  const wanted = createPayload(draft);
  const patch: CampaignPatch = {};
  for (const field of CAMPAIGN_FIELDS) {
    const before = campaign[field] ?? API_DEFAULTS[field];
    if (wanted[field] !== before) Object.assign(patch, { [field]: wanted[field] });
  }
  return patch;
}

/** "0.05" → " (5 %)": a share typed as a fraction, in percent for the hint. */
export function describeShare(text: string): string {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) return "";
  return ` (${Math.round(value * 1000) / 10} %)`;
}

/** "1800" → "30 min": a hint beside the seconds field. */
export function describeSeconds(text: string): string {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round((seconds / 60) * 10) / 10} min`;
  return `${Math.round((seconds / 3600) * 10) / 10} h`;
}
