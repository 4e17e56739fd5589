/**
 * The training API's shapes (/api/v1/training/), written from the agreed contract
 * (docs/api.md, training part) until the generated schema carries them.
 */

export type RunKind = "reward" | "ppo" | "dpo" | "generate" | "evaluate";
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type VersionKind = "policy" | "reward" | "reference";
export type DatasetMode = "consensus" | "all";
export type HyperValue = number | string | boolean;
/** A default may be null ("not set"); a run's config has every value filled. */
export type Hyperparameters = Record<string, HyperValue | null>;

export interface VersionRef {
  id: number;
  name: string;
  kind: VersionKind;
}

export interface NamedRef {
  id: number;
  name: string;
}

export interface DatasetFilters {
  mode: DatasetMode;
  campaign_ids: number[];
  since: string | null;
  until: string | null;
  pool_ids: number[];
  min_rater_quality: number | null;
  exclude_paused: boolean;
  exclude_gold: boolean;
}

export interface Snapshot {
  hash: string;
  size: number;
}

export interface Run {
  id: number;
  kind: RunKind;
  status: RunStatus;
  config: Hyperparameters;
  base: string;
  parent_version: VersionRef | null;
  reward_version: VersionRef | null;
  compare_version: VersionRef | null;
  campaign: NamedRef | null;
  schedule_id: number | null;
  follow_up: RunKind[];
  /** null for a run that trains on no preferences (generation, evaluation). */
  dataset: DatasetFilters | null;
  snapshot: Snapshot;
  progress: number;
  step: number;
  total_steps: number;
  eta_s: number | null;
  heartbeat_at: string | null;
  attempts: number;
  max_attempts: number;
  last_checkpoint: string;
  cancel_requested: boolean;
  error: string;
  log_tail: string;
  result: Record<string, unknown>;
  produced_versions: VersionRef[];
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** POST runs/: everything but the kind is optional. */
export interface RunRequest {
  kind: RunKind;
  base?: string;
  parent_version_id?: number;
  reward_version_id?: number;
  compare_version_id?: number;
  campaign_id?: number;
  dataset?: Partial<DatasetFilters>;
  hyperparameters?: Hyperparameters;
  idempotency_key?: string;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** One point of a metric: [step, value]. */
export type MetricPoint = [number, number];
export type MetricSeries = Record<string, MetricPoint[]>;

export interface MetricsAnswer {
  series: MetricSeries;
}

export interface TrainingOptions {
  defaults: Partial<Record<RunKind, Hyperparameters>>;
  help: Partial<Record<RunKind, Record<string, string>>>;
  bases: string[];
  campaigns: NamedRef[];
  pools: NamedRef[];
}

export interface Version {
  id: number;
  name: string;
  kind: VersionKind;
  base: string;
  artifact_path: string;
  parent: VersionRef | null;
  produced_by: { id: number; kind: RunKind; status: RunStatus } | null;
  campaign: NamedRef | null;
  snapshot: Snapshot;
  dataset: DatasetFilters | null;
  metrics: Record<string, unknown>;
  created_at: string;
}

export interface LineageStep extends VersionRef {
  produced_by_run_id: number | null;
  snapshot_hash: string;
  dataset: DatasetFilters | null;
}

export interface VersionDetail extends Version {
  lineage: LineageStep[];
}

export interface ComparisonSample {
  prompt: string;
  a: string;
  b: string;
  reward_a: number | null;
  reward_b: number | null;
}

export interface Comparison {
  a: Version;
  b: Version;
  metrics: { name: string; a: number | null; b: number | null }[];
  samples: ComparisonSample[];
  evaluation_run: Run | null;
}

export type PolicyKind = "ppo" | "dpo";

export interface Schedule {
  id: number;
  campaign: NamedRef;
  enabled: boolean;
  every_n_judgments: number | null;
  cron: string;
  policy_kind: PolicyKind;
  generate_prompts: number;
  responses_per_prompt: number;
  dataset: Partial<DatasetFilters>;
  hyperparameters: Partial<Record<RunKind, Hyperparameters>>;
  judgments_at_last_fire: number;
  judgments_since_last_fire: number;
  last_fired_at: string | null;
}

export interface ScheduleRequest {
  campaign_id?: number;
  enabled: boolean;
  every_n_judgments: number | null;
  cron: string;
  policy_kind: PolicyKind;
  generate_prompts: number;
  responses_per_prompt: number;
  dataset?: Partial<DatasetFilters>;
  hyperparameters?: Partial<Record<RunKind, Hyperparameters>>;
}

export interface Ceiling {
  campaign: NamedRef;
  /** `percent` is a share from 0 to 1 (percent agreement, as the quality report names it). */
  human_agreement: { percent: number | null; alpha: number | null; n: number };
  reward_model: { version: VersionRef | null; val_accuracy: number | null };
}
