/** The training API's shapes (/api/v1/training/), named from the generated OpenAPI types
 * (schema.d.ts), so a change to a serializer reaches the dashboard through `make frontend-types`. */

import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type RunKind = Schemas["RunKindEnum"];
export type RunStatus = Schemas["RunStatusEnum"];
export type VersionKind = Schemas["VersionKindEnum"];
export type DatasetMode = Schemas["DatasetModeEnum"];
export type PolicyKind = Schemas["PolicyKindEnum"];

export type VersionRef = Schemas["VersionRef"];
export type NamedRef = Schemas["CampaignRef"];
/** A run's dataset as stored: every filter filled in. */
export type DatasetFilters = Schemas["DatasetFilters"];
export type Snapshot = Schemas["Snapshot"];

export type Run = Schemas["Run"];
/** A default may be null ("not set"); a run's config has every value filled. */
export type Hyperparameters = Run["config"];
export type HyperValue = NonNullable<Hyperparameters[string]>;
/** POST runs/: everything but the kind is optional. */
export type RunRequest = Schemas["RunCreateRequest"];
export type RunPage = Schemas["PaginatedRunList"];

export type MetricsAnswer = Schemas["MetricSeries"];
export type MetricSeries = MetricsAnswer["series"];
/** One point of a metric: [step, value]. */
export type MetricPoint = MetricSeries[string][number];

export type TrainingOptions = Schemas["Options"];
/** A hyperparameter's type, range and choices, as the server checks them. */
export type HyperLimit = Schemas["HyperparameterLimit"];

/** A PPO or DPO round's reward-hacking watch, and its warnings. */
export type Watch = Schemas["Watch"];
export type WatchWarning = Schemas["WatchWarning"];
export type WatchWarningCode = Schemas["WatchWarningCodeEnum"];
/** The chart "Length preference: raters, reward model, policy drift" along a lineage. */
export type LengthPreference = Schemas["LengthPreference"];
export type PolicyRound = Schemas["PolicyRound"];

export type Version = Schemas["Version"];
export type Promotion = Version["promotion"];
export type LineageStep = Schemas["LineageEntry"];
export type VersionDetail = Schemas["VersionDetail"];
export type ComparisonSample = Schemas["CompareSample"];
export type Comparison = Schemas["Comparison"];

export type Schedule = Schemas["Schedule"];
export type ScheduleCreate = Schemas["ScheduleCreateRequest"];
export type ScheduleChange = Schemas["PatchedScheduleUpdateRequest"];
/** Every setting of a schedule the editor sends (its campaign is added on create). */
export type ScheduleRequest = Required<
  Pick<
    ScheduleChange,
    | "enabled"
    | "every_n_judgments"
    | "cron"
    | "policy_kind"
    | "generate_prompts"
    | "responses_per_prompt"
    | "check_reward_version_id"
    | "arena_campaign_id"
    | "gate_max_comparisons"
  >
>;

/** `percent` is a share from 0 to 1 (percent agreement, as the quality report names it). */
export type Ceiling = Schemas["Ceiling"];
