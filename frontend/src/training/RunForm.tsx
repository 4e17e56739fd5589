import { useMemo, useRef, useState, type FormEvent, type ReactNode } from "react";
import { ApiError } from "../api/client";
import { errorMessage, fieldErrors, unplacedErrors, type FieldErrors } from "../shared/errors";
import { describedBy, ErrorNotice, Field, focusFirstInvalid, Loading, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import {
  hyperLabel,
  hyperOrder,
  limitOf,
  fallbackCampaign,
  KINDS,
  NEEDS,
  WATCHED_KINDS,
  RIVAL_KINDS,
  newDraft,
  newIdempotencyKey,
  runRequest,
  validateRun,
  withDefaults,
  withKind,
  workerWarning,
  UNSAFE_CHOICES,
  type DatasetDraft,
  type RunDraft,
  type UnsafeTreatment,
} from "./runForm";
import type { NamedRef, Run, TrainingOptions, Version } from "./types";
import { VersionSelect } from "./VersionSelect";

/** The start-a-run page: loads the server's defaults and the model versions, then the form. */
export function StartRunSection({ onStarted }: { onStarted: (run: Run) => void }) {
  const options = useLoad(() => trainingApi.options());
  const versions = useLoad(() => trainingApi.versions());
  // Only arena answers need these; the form does not wait for them.
  const arenas = useLoad(() => trainingApi.arenaCampaigns());
  return (
    <>
      <div className="section-head">
        <h1 id="section-title" tabIndex={-1}>
          Start a run
        </h1>
      </div>
      <ErrorNotice error={options.error ?? versions.error} onRetry={() => (options.error ? options.reload() : versions.reload())} />
      {options.data && versions.data ? (
        <RunForm options={options.data} versions={versions.data} arenas={arenas.data} onStarted={onStarted} />
      ) : (
        !options.error && !versions.error && <Loading what="the defaults" />
      )}
    </>
  );
}

interface Props {
  options: TrainingOptions;
  versions: Version[];
  /** The arena campaigns; null while loading or when they could not be read. */
  arenas?: NamedRef[] | null;
  onStarted: (run: Run) => void;
}

const ID = "run";
const id = (field: string) => `${ID}-${field.replace(/\./g, "-")}`;

export function RunForm({ options, versions, arenas = null, onStarted }: Props) {
  const [draft, setDraft] = useState(() => newDraft(options));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  // One key per draft submitted: a double click or a retry of the same draft makes one run;
  // any edit makes the next submission a new run.
  const submission = useRef<{ draft: RunDraft | null; key: string }>({ draft: null, key: "" });
  const needs = NEEDS[draft.kind];
  const warning = workerWarning(options.workers);
  const policies = useMemo(() => versions.filter((v) => v.kind === "policy" || v.kind === "reference"), [versions]);
  const rewards = useMemo(() => versions.filter((v) => v.kind === "reward"), [versions]);
  const starts = draft.kind === "reward" ? rewards : policies;
  const help = options.help[draft.kind] ?? {};
  const defaults = options.defaults[draft.kind] ?? {};
  const fallback = needs.campaign === "prompts" ? fallbackCampaign(draft, versions) : null;
  const isArena = draft.kind === "arena";
  const targets = isArena ? (arenas ?? []) : options.campaigns;

  const update = setDraft;
  const set = (field: "base" | "parent_version_id" | "reward_version_id" | "compare_version_id" | "check_reward_version_id" | "campaign_id") =>
    (event: { target: { value: string } }) => update((current) => ({ ...current, [field]: event.target.value }));
  const setData = (change: Partial<DatasetDraft>) => update((current) => ({ ...current, dataset: { ...current.dataset, ...change } }));
  const setHyper = (name: string, value: string | boolean) =>
    update((current) => ({ ...current, hyperparameters: { ...current.hyperparameters, [name]: value } }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found = validateRun(draft, options, versions);
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length > 0) {
      focusFirstInvalid(form.current);
      return;
    }
    if (submission.current.draft !== draft) submission.current = { draft, key: newIdempotencyKey() };
    setBusy(true);
    try {
      const run = await trainingApi.createRun(runRequest(draft, options, submission.current.key));
      submission.current = { draft: null, key: "" };
      onStarted(run);
    } catch (caught) {
      setErrors(fieldErrors(caught));
      setFailure(caught);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  const hyperNames = hyperOrder(Object.keys(draft.hyperparameters)).filter((name) => !(draft.kind === "ppo" && (name === "target_kl" || name === "kl_from")));
  const placed = [
    "kind",
    "base",
    "parent_version_id",
    "reward_version_id",
    "compare_version_id",
    "check_reward_version_id",
    "campaign_id",
    "dataset",
    "dataset.mode",
    "dataset.campaign_ids",
    "dataset.since",
    "dataset.until",
    "dataset.pool_ids",
    "dataset.min_rater_quality",
    "hyperparameters",
    ...Object.keys(draft.hyperparameters).map((name) => `hyperparameters.${name}`),
  ];
  const stray = unplacedErrors(errors, placed);
  const emptyDataset = failure instanceof ApiError && failure.code === "empty_dataset";
  const summary =
    failure === null
      ? null
      : Object.keys(errors).length > 0 && stray.length === 0
        ? "Some fields need fixing: see below each."
        : emptyDataset
          ? null
          : errorMessage(failure);

  return (
    <form ref={form} className="run-form panel" onSubmit={submit} noValidate aria-label="Start a run">
      {warning && (
        <p className="notice warning" role="status" data-testid="worker-warning">
          {warning}
        </p>
      )}
      <fieldset className="form-part">
        <legend>What to run</legend>
        <div className="choice-list" role="radiogroup" aria-label="Kind of run">
          {KINDS.map((kind) => (
            <label key={kind.value} className={`choice${draft.kind === kind.value ? " is-chosen" : ""}`}>
              <input
                type="radio"
                name="kind"
                value={kind.value}
                checked={draft.kind === kind.value}
                aria-labelledby={`${ID}-kind-${kind.value}`}
                aria-describedby={`${ID}-kind-${kind.value}-hint`}
                onChange={() => update((current) => withKind(current, kind.value, options))}
              />
              <span>
                <b id={`${ID}-kind-${kind.value}`}>{kind.text}</b>
                <span className="muted" id={`${ID}-kind-${kind.value}-hint`}>
                  {kind.hint}
                </span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>

      <fieldset className="form-part">
        <legend>Models</legend>
        {needs.start && (
          <>
            <div className="segmented" role="radiogroup" aria-label="Start from">
              {(["base", "version"] as const).map((start) => (
                <label key={start} className={`segment${draft.start === start ? " is-chosen" : ""}`}>
                  <input type="radio" name="start" value={start} checked={draft.start === start} onChange={() => update((c) => ({ ...c, start }))} />
                  {start === "base" ? "A base model" : draft.kind === "reward" ? "A reward model version" : "A policy version"}
                </label>
              ))}
            </div>
            {draft.start === "base" ? (
              <Field
                id={id("base")}
                label={draft.kind === "judge" ? "Judge model" : "Base model"}
                errors={errors.base}
                hint={
                  draft.kind === "judge"
                    ? "Any causal LM the worker can load (the embedded smollm2 by default): a name the pipeline knows, a Hugging Face id, or a local path."
                    : "A name the pipeline knows, a Hugging Face id, or a local path."
                }
              >
                <input {...describedBy(id("base"), errors.base, `${id("base")}-hint`)} className="input" list={`${ID}-bases`} value={draft.base} onChange={set("base")} />
                <datalist id={`${ID}-bases`}>
                  {options.bases.map((base) => (
                    <option key={base} value={base} />
                  ))}
                </datalist>
              </Field>
            ) : (
              <VersionSelect field="parent_version_id" label={draft.kind === "reward" ? "Parent reward model" : draft.kind === "judge" ? "Judge policy" : isArena ? "Policy whose answers enter the arena" : "Parent policy"} value={draft.parent_version_id} versions={starts} errors={errors.parent_version_id} onChange={set("parent_version_id")} />
            )}
          </>
        )}
        {draft.kind === "evaluate" && (
          <div className="field-row">
            <VersionSelect field="parent_version_id" label="Policy A" value={draft.parent_version_id} versions={policies} errors={errors.parent_version_id} onChange={set("parent_version_id")} />
            <VersionSelect field="compare_version_id" label="Policy B" value={draft.compare_version_id} versions={policies} errors={errors.compare_version_id} onChange={set("compare_version_id")} />
          </div>
        )}
        {RIVAL_KINDS.includes(draft.kind) && (
          <VersionSelect
            field="compare_version_id"
            label="Rival policy (optional)"
            value={draft.compare_version_id}
            versions={policies}
            errors={errors.compare_version_id}
            onChange={set("compare_version_id")}
            empty="A second policy that answers the same prompts, so raters compare the two. None: the arena's other models."
            noneLabel="None"
          />
        )}
        {needs.reward && (
          <VersionSelect
            field="reward_version_id"
            label="Reward model"
            value={draft.reward_version_id}
            versions={rewards}
            errors={errors.reward_version_id}
            onChange={set("reward_version_id")}
            empty={rewards.length === 0 ? "No reward model yet: train one first." : undefined}
          />
        )}
        {WATCHED_KINDS.includes(draft.kind) && (
          <VersionSelect
            field="check_reward_version_id"
            label="Second reward model (optional)"
            value={draft.check_reward_version_id}
            versions={rewards}
            errors={errors.check_reward_version_id}
            onChange={set("check_reward_version_id")}
            empty="For the reward-hacking watch: the new policy's win rate over its parent under a second judge."
          />
        )}
        {draft.kind === "ppo" && "target_kl" in draft.hyperparameters && (
          <div className="kl-budget">
            <HyperField name="target_kl" label="KL budget (target KL per answer)" value={draft.hyperparameters.target_kl} help={help.target_kl ?? "How far the policy may drift (from its parent, or from the base under kl_from base); β adapts to keep the KL near it."} errors={errors["hyperparameters.target_kl"]} defaultValue={defaults.target_kl} choices={null} onChange={setHyper} />
            {"kl_from" in draft.hyperparameters && (
              <HyperField name="kl_from" label={hyperLabel("kl_from")} value={draft.hyperparameters.kl_from} help={help.kl_from} errors={errors["hyperparameters.kl_from"]} defaultValue={defaults.kl_from} choices={limitOf(options, draft.kind, "kl_from")?.choices ?? null} onChange={setHyper} />
            )}
          </div>
        )}
        {needs.campaign && (
          <Field
            id={id("campaign_id")}
            label={isArena ? "Arena campaign" : needs.campaign === "required" ? "Target campaign" : "Prompts from campaign"}
            errors={errors.campaign_id}
            hint={
              isArena
                ? arenas && arenas.length === 0
                  ? "No arena campaign yet: an admin creates one in the console with “Arena” ticked."
                  : "Its prompts are answered, and the answers become blind pairs for its raters."
                : needs.campaign === "required"
                  ? "Receives the new ranking tasks, so the next judgments are about this policy."
                  : `The prompts the policy answers. Empty: ${fallback ? `${fallback.name}, where the chosen models came from` : "the campaign the chosen models came from"}.`
            }
          >
            <select {...describedBy(id("campaign_id"), errors.campaign_id, `${id("campaign_id")}-hint`)} className="input" value={draft.campaign_id} onChange={set("campaign_id")}>
              <option value="">{isArena ? "Choose an arena…" : needs.campaign === "required" ? "Choose a campaign…" : "Where the models came from"}</option>
              {targets.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </Field>
        )}
      </fieldset>

      {needs.dataset && <DatasetFields draft={draft.dataset} options={options} errors={errors} emptyDataset={emptyDataset ? errorMessage(failure) : null} onChange={setData} />}

      {hyperNames.length > 0 && (
        <fieldset className="form-part">
          <legend>Hyperparameters</legend>
          <p className="field-hint">
            Prefilled with the server's defaults.{" "}
            <button type="button" className="link-button" onClick={() => update((c) => withDefaults(c, options))}>
              Reset to defaults
            </button>
          </p>
          {errors.hyperparameters && <p className="field-error">{errors.hyperparameters.join(" ")}</p>}
          <div className="field-row hyper-grid">
            {hyperNames.map((name) => (
              <HyperField key={name} name={name} label={hyperLabel(name)} value={draft.hyperparameters[name]} help={help[name]} errors={errors[`hyperparameters.${name}`]} defaultValue={defaults[name]} choices={limitOf(options, draft.kind, name)?.choices ?? null} onChange={setHyper} />
            ))}
          </div>
        </fieldset>
      )}

      <div role="status" aria-live="polite">
        {summary && (
          <div className="notice error">
            <p className="notice-text">{summary}</p>
            {stray.length > 0 && summary !== stray.join(" ") && <p className="notice-text">{stray.join(" ")}</p>}
          </div>
        )}
      </div>
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Starting…" : "Start run"}
        </button>
      </div>
    </form>
  );
}

function HyperField(props: {
  name: string;
  label: string;
  value: string | boolean;
  help?: string;
  errors?: string[];
  defaultValue: unknown;
  /** The values the server takes, for a field that is one of a few words; else null. */
  choices: string[] | null;
  onChange: (name: string, value: string | boolean) => void;
}) {
  const { name, label, value, help, errors, defaultValue, choices, onChange } = props;
  const fieldId = id(`hyperparameters.${name}`);
  if (typeof value === "boolean") {
    return (
      <div className="field">
        <label className="check">
          <input type="checkbox" id={fieldId} checked={value} onChange={(e) => onChange(name, e.target.checked)} aria-describedby={help ? `${fieldId}-hint` : undefined} />
          {label}
        </label>
        {help && (
          <p id={`${fieldId}-hint`} className="field-hint">
            {help}
          </p>
        )}
      </div>
    );
  }
  const hint: ReactNode = `${help ?? ""}${help ? " " : ""}${defaultValue === null || defaultValue === undefined ? "No default." : `Default ${String(defaultValue)}.`}`;
  if (choices) {
    return (
      <Field id={fieldId} label={label} errors={errors} hint={hint}>
        <select {...describedBy(fieldId, errors, `${fieldId}-hint`)} className="input" value={value} onChange={(e) => onChange(name, e.target.value)}>
          {choices.map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      </Field>
    );
  }
  return (
    <Field id={fieldId} label={label} errors={errors} hint={hint}>
      <input
        {...describedBy(fieldId, errors, `${fieldId}-hint`)}
        className="input"
        inputMode={typeof defaultValue === "number" || defaultValue === null ? "decimal" : undefined}
        value={value}
        onChange={(e) => onChange(name, e.target.value)}
      />
    </Field>
  );
}

function toggled(list: number[], value: number, on: boolean): number[] {
  return on ? [...new Set([...list, value])] : list.filter((item) => item !== value);
}

function CheckList({ legend, items, chosen, onChange, hint }: { legend: string; items: NamedRef[]; chosen: number[]; onChange: (ids: number[]) => void; hint: string }) {
  return (
    <fieldset className="check-list">
      <legend>{legend}</legend>
      {items.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        items.map((item) => (
          <label key={item.id} className="check">
            <input type="checkbox" checked={chosen.includes(item.id)} onChange={(e) => onChange(toggled(chosen, item.id, e.target.checked))} />
            {item.name}
          </label>
        ))
      )}
      <p className="field-hint">{hint}</p>
    </fieldset>
  );
}

function DatasetFields(props: {
  draft: DatasetDraft;
  options: TrainingOptions;
  errors: FieldErrors;
  emptyDataset: string | null;
  onChange: (change: Partial<DatasetDraft>) => void;
}) {
  const { draft, options, errors, emptyDataset, onChange } = props;
  const datasetErrors = [...(errors.dataset ?? []), ...(emptyDataset ? [emptyDataset] : [])];
  return (
    <fieldset className="form-part" aria-describedby={datasetErrors.length ? `${ID}-dataset-error` : undefined}>
      <legend>Data</legend>
      {datasetErrors.length > 0 && (
        <p id={`${ID}-dataset-error`} className="field-error">
          {datasetErrors.join(" ")}
        </p>
      )}
      <div className="segmented" role="radiogroup" aria-label="Which preferences">
        {(["consensus", "all"] as const).map((mode) => (
          <label key={mode} className={`segment${draft.mode === mode ? " is-chosen" : ""}`}>
            <input type="radio" name="dataset-mode" value={mode} checked={draft.mode === mode} onChange={() => onChange({ mode })} />
            {mode === "consensus" ? "Consensus pairs" : "All judgments"}
          </label>
        ))}
      </div>
      <p className="field-hint">
        Consensus: per task, the raters' judgments combined into one ranking (Bradley–Terry), then every pair of its responses that ranking tells apart (up to 6 pairs for 4 responses; ties left out). All: every rater's judgment as its own pairs.
      </p>
      <div className="field-row">
        <CheckList legend="Campaigns" items={options.campaigns} chosen={draft.campaign_ids} onChange={(campaign_ids) => onChange({ campaign_ids })} hint="None ticked: every campaign." />
        <CheckList legend="Rater pools" items={options.pools} chosen={draft.pool_ids} onChange={(pool_ids) => onChange({ pool_ids })} hint="None ticked: every rater." />
      </div>
      <div className="field-row">
        <Field id={id("dataset.since")} label="Judged from" errors={errors["dataset.since"]}>
          <input {...describedBy(id("dataset.since"), errors["dataset.since"])} className="input" type="date" value={draft.since} onChange={(e) => onChange({ since: e.target.value })} />
        </Field>
        <Field id={id("dataset.until")} label="Judged until" errors={errors["dataset.until"]}>
          <input {...describedBy(id("dataset.until"), errors["dataset.until"])} className="input" type="date" value={draft.until} onChange={(e) => onChange({ until: e.target.value })} />
        </Field>
        <Field id={id("dataset.min_rater_quality")} label="Minimum rater quality" errors={errors["dataset.min_rater_quality"]} hint="From 0 to 1; empty for no minimum.">
          <input
            {...describedBy(id("dataset.min_rater_quality"), errors["dataset.min_rater_quality"], `${id("dataset.min_rater_quality")}-hint`)}
            className="input"
            inputMode="decimal"
            value={draft.min_rater_quality}
            onChange={(e) => onChange({ min_rater_quality: e.target.value })}
          />
        </Field>
      </div>
      <div className="check-row">
        <label className="check">
          <input type="checkbox" checked={draft.exclude_paused} onChange={(e) => onChange({ exclude_paused: e.target.checked })} />
          Leave out paused raters
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.exclude_gold} onChange={(e) => onChange({ exclude_gold: e.target.checked })} />
          Leave out gold tasks
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.exclude_all_bad} onChange={(e) => onChange({ exclude_all_bad: e.target.checked })} />
          Leave out judgments flagged “all responses are bad”
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.model_labels} onChange={(e) => onChange({ model_labels: e.target.checked })} />
          Include the reward model’s labels (uncertainty routing)
        </label>
      </div>
      <Field
        id={id("dataset.unsafe")}
        label="A response a rater flagged unsafe…"
        errors={errors["dataset.unsafe"]}
        hint="Applied to that rater's own pairs; other raters' rankings stay as given."
      >
        <select
          {...describedBy(id("dataset.unsafe"), errors["dataset.unsafe"], `${id("dataset.unsafe")}-hint`)}
          className="input"
          value={draft.unsafe}
          onChange={(e) => onChange({ unsafe: e.target.value as UnsafeTreatment })}
        >
          {UNSAFE_CHOICES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.text}
            </option>
          ))}
        </select>
      </Field>
    </fieldset>
  );
}
