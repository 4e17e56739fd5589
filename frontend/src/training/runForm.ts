/** The start-a-run form: its draft as typed ↔ the API's request, with the server's own rules
 * checked first so most mistakes are caught before a round trip (the server still decides). */

import type { FieldErrors } from "../shared/errors";
import type { DatasetFilters, DatasetMode, HyperLimit, HyperValue, Hyperparameters, NamedRef, RunKind, RunRequest, TrainingOptions, Version } from "./types";

/** Where a policy or reward model starts: a base checkpoint, or one of our versions. */
export type StartFrom = "base" | "version";

export interface DatasetDraft {
  mode: DatasetMode;
  campaign_ids: number[];
  /** Dates as the date inputs give them (YYYY-MM-DD), "" for open. */
  since: string;
  until: string;
  pool_ids: number[];
  min_rater_quality: string;
  exclude_paused: boolean;
  exclude_gold: boolean;
  exclude_all_bad: boolean;
  unsafe: UnsafeTreatment;
  /** Also the pairs the reward model labelled under the campaign's uncertainty routing. */
  model_labels: boolean;
}

/** What a response flagged unsafe does to its judgment's pairs (annotation.selectors.safety). */
export type UnsafeTreatment = DatasetFilters["unsafe"];

export const UNSAFE_CHOICES: readonly { value: UnsafeTreatment; text: string }[] = [
  { value: "below", text: "goes below every safe answer of that judgment" },
  { value: "drop", text: "takes its pairs out (a helpfulness set)" },
  { value: "ignore", text: "changes nothing (the ranking as given)" },
  { value: "safety", text: "keeps only safe-vs-unsafe pairs (a safety set)" },
];

export interface RunDraft {
  kind: RunKind;
  start: StartFrom;
  base: string;
  /** Ids as the selects give them, "" for none. */
  parent_version_id: string;
  reward_version_id: string;
  compare_version_id: string;
  /** PPO and DPO: a second reward model for the reward-hacking watch, "" for none. */
  check_reward_version_id: string;
  campaign_id: string;
  dataset: DatasetDraft;
  /** Numbers as typed, switches as booleans, text as text. */
  hyperparameters: Record<string, string | boolean>;
}

export const KINDS: { value: RunKind; text: string; hint: string }[] = [
  { value: "reward", text: "Reward model", hint: "Learn to score answers from the raters' preferences." },
  { value: "ppo", text: "PPO round", hint: "Improve a policy against a reward model, within a KL budget." },
  { value: "grpo", text: "GRPO round", hint: "Improve a policy against a reward model: several answers per prompt, each scored against its group (no value model)." },
  { value: "rloo", text: "RLOO round", hint: "Improve a policy against a reward model: several answers per prompt, each scored against the others' mean (no value model)." },
  { value: "dpo", text: "DPO round", hint: "Improve a policy straight from the preference pairs." },
  { value: "generate", text: "Generation", hint: "Answer a campaign's prompts with a policy: new tasks for raters." },
  { value: "evaluate", text: "Evaluation", hint: "Compare two policies on the same prompts, scored by a reward model." },
  { value: "arena", text: "Arena answers", hint: "Answer an arena campaign's prompts with a policy (and a rival, if chosen): raters then compare the models blind." },
];

/** The policy rounds whose reward-hacking watch may name a second reward model. */
export const WATCHED_KINDS: readonly RunKind[] = ["ppo", "grpo", "rloo", "dpo"];

/** The policy rounds that sample answers and score them with a reward model. */
export const REWARD_DRIVEN_KINDS: readonly RunKind[] = ["ppo", "grpo", "rloo"];

/** Which parts of the form each kind uses. A campaign is where a generation run puts its
 * tasks; for PPO, GRPO, RLOO and evaluation it is where the prompts come from, and may be left to the
 * campaign the chosen models came from. Only reward and DPO runs train on a dataset. */
export const NEEDS: Record<
  RunKind,
  { start: boolean; reward: boolean; compare: boolean; campaign: "required" | "prompts" | false; dataset: boolean }
> = {
  reward: { start: true, reward: false, compare: false, campaign: false, dataset: true },
  ppo: { start: true, reward: true, compare: false, campaign: "prompts", dataset: false },
  grpo: { start: true, reward: true, compare: false, campaign: "prompts", dataset: false },
  rloo: { start: true, reward: true, compare: false, campaign: "prompts", dataset: false },
  dpo: { start: true, reward: false, compare: false, campaign: false, dataset: true },
  generate: { start: true, reward: false, compare: false, campaign: "required", dataset: false },
  evaluate: { start: false, reward: true, compare: true, campaign: "prompts", dataset: false },
  judge: { start: true, reward: false, compare: false, campaign: "required", dataset: false },
  arena: { start: true, reward: false, compare: false, campaign: "required", dataset: false },
};

/** Arena answers may name a rival policy that answers the same prompts. */
export const RIVAL_KINDS: readonly RunKind[] = ["arena"];

/** The campaign a PPO or evaluation run would take prompts from when none is chosen: the
 * first of its models (parent, compared, reward) that came from one; as the server picks it. */
export function fallbackCampaign(draft: RunDraft, versions: readonly Pick<Version, "id" | "campaign">[]): NamedRef | null {
  const byId = new Map(versions.map((v) => [String(v.id), v]));
  const usesParent = draft.kind === "evaluate" || draft.start === "version";
  const chosen = [usesParent ? draft.parent_version_id : "", draft.compare_version_id, draft.reward_version_id];
  for (const id of chosen) {
    const campaign = id ? byId.get(id)?.campaign : null;
    if (campaign) return campaign;
  }
  return null;
}

/** A hyperparameter's limits as the options endpoint gives them (the server's own checks,
 * read from the pipeline's declarations); undefined for a name the server did not list. */
export function limitOf(options: TrainingOptions, kind: RunKind, name: string): HyperLimit | undefined {
  return options.limits[kind]?.[name];
}

export const EMPTY_DATASET: DatasetDraft = {
  mode: "consensus",
  campaign_ids: [],
  since: "",
  until: "",
  pool_ids: [],
  min_rater_quality: "",
  exclude_paused: true,
  exclude_gold: true,
  exclude_all_bad: true,
  unsafe: "below",
  model_labels: false,
};

function hyperDraft(defaults: Hyperparameters | undefined): Record<string, string | boolean> {
  return Object.fromEntries(
    Object.entries(defaults ?? {}).map(([key, value]) => [key, typeof value === "boolean" ? value : value === null ? "" : String(value)]),
  );
}

/** A fresh draft for a kind, its hyperparameters prefilled with the server's defaults. */
export function newDraft(options: TrainingOptions, kind: RunKind = "reward"): RunDraft {
  return {
    kind,
    start: "base",
    base: options.bases[0] ?? "smollm2",
    parent_version_id: "",
    reward_version_id: "",
    compare_version_id: "",
    check_reward_version_id: "",
    campaign_id: "",
    dataset: { ...EMPTY_DATASET },
    hyperparameters: hyperDraft(options.defaults[kind]),
  };
}

/** Switching the kind swaps the hyperparameters for that kind's defaults, keeping the rest. */
export function withKind(draft: RunDraft, kind: RunKind, options: TrainingOptions): RunDraft {
  if (kind === draft.kind) return draft;
  return { ...draft, kind, hyperparameters: hyperDraft(options.defaults[kind]) };
}

/** The kind's defaults again, keeping the rest of the draft. */
export function withDefaults(draft: RunDraft, options: TrainingOptions): RunDraft {
  return { ...draft, hyperparameters: hyperDraft(options.defaults[draft.kind]) };
}

function isBlank(value: string): boolean {
  return value.trim() === "";
}

/** The problem with one hyperparameter as typed, or null; the same words as the server's. */
export function hyperProblem(limit: HyperLimit | undefined, typed: string | boolean, fallback: HyperValue | null | undefined): string | null {
  if (typeof typed === "boolean") return null;
  if (limit?.choices) return limit.choices.includes(typed) ? null : `Must be one of: ${limit.choices.join(", ")}.`;
  if (typeof fallback !== "number" && !limit) return null;
  const value = Number(typed);
  if (isBlank(typed) || !Number.isFinite(value)) return "Must be a number.";
  if (!limit) return null;
  if (limit.type === "integer" && !Number.isInteger(value)) return "Must be a whole number.";
  if (limit.minimum !== null && value < limit.minimum) return `Must be at least ${limit.minimum}.`;
  if (limit.maximum !== null && value > limit.maximum) return `Must be at most ${limit.maximum}.`;
  return null;
}

/** Field errors keyed as the server names them (nested fields with dots); {} when valid. */
export function validateRun(
  draft: RunDraft,
  options: TrainingOptions,
  versions: readonly Pick<Version, "id" | "campaign">[] = [],
): FieldErrors {
  const errors: FieldErrors = {};
  const needs = NEEDS[draft.kind];
  const add = (field: string, message: string) => (errors[field] = [...(errors[field] ?? []), message]);
  if (needs.start && draft.start === "base" && isBlank(draft.base)) add("base", "Choose a base model.");
  if ((needs.start && draft.start === "version") || draft.kind === "evaluate") {
    if (isBlank(draft.parent_version_id))
      add("parent_version_id", draft.kind === "evaluate" ? "Choose the first policy." : "Choose a model version.");
  }
  if (needs.reward && isBlank(draft.reward_version_id))
    add("reward_version_id", REWARD_DRIVEN_KINDS.includes(draft.kind) ? `${draft.kind.toUpperCase()} needs a reward model to optimise against.` : "Choose the reward model that scores them.");
  if (needs.compare) {
    if (isBlank(draft.compare_version_id)) add("compare_version_id", "Choose the second policy.");
    else if (draft.compare_version_id === draft.parent_version_id) add("compare_version_id", "Choose a different policy from the first.");
  }
  if (RIVAL_KINDS.includes(draft.kind) && !isBlank(draft.compare_version_id) && draft.start === "version" && draft.compare_version_id === draft.parent_version_id)
    add("compare_version_id", "Choose a different policy from the first, or none.");
  if (needs.campaign === "required" && isBlank(draft.campaign_id))
    add("campaign_id", draft.kind === "arena" ? "Choose the arena campaign that receives the answers." : "Choose the campaign that receives the new tasks.");
  if (needs.campaign === "prompts" && isBlank(draft.campaign_id) && !fallbackCampaign(draft, versions))
    add("campaign_id", "Choose the campaign whose prompts to use: none of the chosen models came from one.");
  if (needs.dataset) {
    const quality = draft.dataset.min_rater_quality.trim();
    if (quality !== "") {
      const value = Number(quality);
      if (!Number.isFinite(value) || value < 0 || value > 1) add("dataset.min_rater_quality", "Enter a number from 0 to 1, or leave it empty.");
    }
    if (draft.dataset.since && draft.dataset.until && draft.dataset.since > draft.dataset.until)
      add("dataset.until", "The end date is before the start date.");
  }
  const defaults = options.defaults[draft.kind] ?? {};
  for (const [name, typed] of Object.entries(draft.hyperparameters)) {
    const problem =
      hyperProblem(limitOf(options, draft.kind, name), typed, defaults[name]) ??
      splitProblem(options.workers, draft.kind, name, typed) ??
      strategyProblem(options.workers, name, typed);
    if (problem) add(`hyperparameters.${name}`, problem);
  }
  return errors;
}

/** A local date as the start (or, with `endOfDay`, the last moment) of that day, in ISO. */
export function dayBoundary(day: string, endOfDay = false): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const date = new Date(`${day}T${endOfDay ? "23:59:59.999" : "00:00:00"}`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function datasetOf(draft: DatasetDraft): DatasetFilters {
  const quality = draft.min_rater_quality.trim();
  return {
    mode: draft.mode,
    campaign_ids: [...draft.campaign_ids].sort((a, b) => a - b),
    since: dayBoundary(draft.since),
    until: dayBoundary(draft.until, true),
    pool_ids: [...draft.pool_ids].sort((a, b) => a - b),
    min_rater_quality: quality === "" ? null : Number(quality),
    exclude_paused: draft.exclude_paused,
    exclude_gold: draft.exclude_gold,
    exclude_all_bad: draft.exclude_all_bad,
    unsafe: draft.unsafe,
    model_labels: draft.model_labels,
  };
}

function parsed(typed: string | boolean, fallback: HyperValue | null | undefined): HyperValue | null {
  if (typeof typed === "boolean") return typed;
  if (fallback === null && isBlank(typed)) return null;
  return typeof fallback === "number" || fallback === null ? Number(typed) : typed;
}

/** Only the hyperparameters that differ from the defaults: the server fills in the rest. */
export function changedHyperparameters(typed: Record<string, string | boolean>, defaults: Hyperparameters): Hyperparameters {
  const changed: Hyperparameters = {};
  for (const [name, value] of Object.entries(typed)) {
    const next = parsed(value, defaults[name]);
    if (next !== null && next !== defaults[name]) changed[name] = next;
  }
  return changed;
}

/** The request for a valid draft: only the fields its kind uses. */
export function runRequest(draft: RunDraft, options: TrainingOptions, idempotencyKey: string): RunRequest {
  const needs = NEEDS[draft.kind];
  const id = (value: string) => Number(value);
  const request: RunRequest = { kind: draft.kind, idempotency_key: idempotencyKey };
  if (needs.start && draft.start === "base") request.base = draft.base.trim();
  if ((needs.start && draft.start === "version") || draft.kind === "evaluate") request.parent_version_id = id(draft.parent_version_id);
  if (needs.reward) request.reward_version_id = id(draft.reward_version_id);
  if (needs.compare || (RIVAL_KINDS.includes(draft.kind) && !isBlank(draft.compare_version_id))) request.compare_version_id = id(draft.compare_version_id);
  if (WATCHED_KINDS.includes(draft.kind) && !isBlank(draft.check_reward_version_id)) request.check_reward_version_id = id(draft.check_reward_version_id);
  if (needs.campaign && !isBlank(draft.campaign_id)) request.campaign_id = id(draft.campaign_id);
  if (needs.dataset) request.dataset = datasetOf(draft.dataset);
  const hyper = changedHyperparameters(draft.hyperparameters, options.defaults[draft.kind] ?? {});
  if (Object.keys(hyper).length > 0) request.hyperparameters = hyper;
  return request;
}

/** A key for one submission of the form: a double click or a retry sends the same one, so the
 * server makes one run. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return `dash-${crypto.randomUUID()}`;
  return `dash-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** "value_learning_rate" → "Value head learning rate"; names the form shows. */
const HYPER_NAMES: Record<string, string> = {
  value_learning_rate: "Value head learning rate",
  head_init: "Head initialisation",
  target_kl: "KL budget (target KL)",
  kl_from: "KL counted from",
  kl_coef: "Initial KL coefficient (β)",
  max_new_tokens: "Max new tokens",
  max_length: "Max length (tokens)",
  ppo_epochs: "PPO epochs per batch",
  grad_accum: "Gradient accumulation",
  validation_fraction: "Validation fraction",
  cv_folds: "Cross-validation folds (k)",
  k: "Responses per prompt (K)",
  beta: "β (DPO temperature)",
  watch_prompts: "Prompts for the reward-hacking watch",
  bf16: "bfloat16",
  strategy: "Multi-process strategy",
};

export function hyperLabel(name: string): string {
  if (name in HYPER_NAMES) return HYPER_NAMES[name];
  const words = name.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The KL budget first (it matters most for PPO), then the rest in the server's order. */
export function hyperOrder(names: readonly string[]): string[] {
  return [...names].sort((a, b) => Number(b === "target_kl") - Number(a === "target_kl"));
}

const MULTI_PROCESS_KINDS: ReadonlySet<string> = new Set(["reward", "dpo", "ppo", "grpo", "rloo"]);

/** A worker that runs reward, DPO and PPO on several processes gives each an equal share of
 * every batch: a batch size (or PPO's minibatch size) that splits over no worker that can train
 * would fail wherever it went, so the form says so first. (Where some worker could run it, the
 * run is sent; a worker that cannot split it refuses it with the same reason.) */
export function splitProblem(
  workers: TrainingOptions["workers"],
  kind: string,
  name: string,
  typed: unknown,
): string | null {
  if (!MULTI_PROCESS_KINDS.has(kind) || (name !== "batch_size" && name !== "minibatch_size")) return null;
  const value = Number(typed);
  if (!Number.isInteger(value) || value < 1) return null;
  const able = workers.filter((worker) => worker.can_train);
  if (able.length === 0 || able.some((worker) => value % worker.processes === 0)) return null;
  const uneven = able[0];
  return `The training worker ${uneven.hostname} runs each run on ${uneven.processes} processes, each taking an equal share of the batch: use a multiple of ${uneven.processes}.`;
}

/** A run's `strategy` must be one its worker allows (TRAINING_STRATEGY): a strategy no worker
 * that can train allows would fail wherever it went, so the form says so first. */
export function strategyProblem(
  workers: TrainingOptions["workers"],
  name: string,
  typed: unknown,
): string | null {
  if (name !== "strategy" || typeof typed !== "string" || typed === "") return null;
  const able = workers.filter((worker) => worker.can_train);
  if (able.length === 0 || able.some((worker) => worker.strategies.includes(typed))) return null;
  const allowed = [...new Set(able.flatMap((worker) => worker.strategies))].join(", ");
  return `No training worker allows the ${typed} strategy (they allow ${allowed}: each worker's TRAINING_STRATEGY).`;
}

/** What to tell the engineer about the training workers before a run starts, or null when at
 * least one worker can train. */
export function workerWarning(workers: TrainingOptions["workers"]): string | null {
  if (workers.length === 0) {
    return "No training worker has reported in yet: a run will wait in the queue until one starts (make run starts one; on a worker machine: celery -A config worker --queues gpu).";
  }
  if (workers.some((worker) => worker.can_train)) return null;
  const missing = [...new Set(workers.flatMap((worker) => worker.missing))].join(", ");
  const names = workers.map((worker) => worker.hostname).join(", ");
  return `No training worker can train yet: ${names} lack${workers.length === 1 ? "s" : ""} ${missing}. Run make install-train on the worker's machine and restart the worker; a run started now would fail.`;
}
