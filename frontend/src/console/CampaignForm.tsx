import { useRef, useState, type FormEvent } from "react";
import { Markdown } from "../markdown/Markdown";
import type { JudgmentMode, Routing } from "./api";
import {
  describeSeconds,
  describeShare,
  fieldsOf,
  LIMITS,
  onlyFields,
  validateDraft,
  withArena,
  withMode,
  type CampaignDraft,
  type FormPart,
} from "./campaignForm";
import { errorMessage, fieldErrors, unplacedErrors, type FieldErrors } from "../shared/errors";
import { describedBy, Field, focusFirstInvalid } from "../shared/ui";

interface Props {
  /** Prefix for element ids, so two forms on one page do not clash. */
  idPrefix: string;
  initial: CampaignDraft;
  submitLabel: string;
  busyLabel: string;
  /** Saves the draft; a rejection with DRF field errors puts them beside the fields. */
  onSave: (draft: CampaignDraft) => Promise<void>;
  onCancel?: () => void;
  /** Which parts to show; the basics by default. */
  parts?: readonly FormPart[];
}

type NumberKey = keyof typeof LIMITS;

const MODES: { value: JudgmentMode; text: string }[] = [
  { value: "rank", text: "Rank K responses" },
  { value: "pairwise", text: "Pairwise (2 responses, graded strength)" },
];

const ROUTES: { value: Routing; text: string }[] = [
  { value: "everything", text: "Every generated task to raters" },
  { value: "uncertainty", text: "Uncertain tasks to raters, the rest labelled by the reward model" },
  { value: "judge", text: "Tasks an LLM judge is unsure of to raters, the rest pre-labelled by it" },
];

export function CampaignForm({ idPrefix, initial, submitLabel, busyLabel, onSave, onCancel, parts = ["basics"] }: Props) {
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const shown = fieldsOf(parts);
  const id = (field: string) => `${idPrefix}-${field}`;
  const set = (field: keyof CampaignDraft) => (event: { target: { value: string } }) =>
    setDraft((current) => ({ ...current, [field]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found = onlyFields(validateDraft(draft), shown);
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length > 0) {
      focusFirstInvalid(form.current);
      return;
    }
    setBusy(true);
    try {
      await onSave(draft);
    } catch (caught) {
      const fields = fieldErrors(caught);
      setErrors(fields);
      const stray = unplacedErrors(fields, shown);
      setFailure(Object.keys(fields).length > 0 && stray.length === 0 ? "Some fields need fixing: see below each." : errorMessage(caught));
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  const basics = parts.includes("basics");
  const quality = parts.includes("quality");
  const numberField = (field: NumberKey, label: string, hint: string, step: string, placeholder?: string) => (
    <Field id={id(field)} label={label} errors={errors[field]} hint={hint}>
      <input
        {...describedBy(id(field), errors[field], `${id(field)}-hint`)}
        className="input"
        type="number"
        inputMode={step === "1" ? "numeric" : "decimal"}
        min={LIMITS[field].min}
        max={LIMITS[field].max}
        step={step}
        value={draft[field]}
        placeholder={placeholder}
        disabled={field === "responses_per_task" && draft.judgment_mode === "pairwise"}
        onChange={set(field)}
      />
    </Field>
  );

  const goldRate = numberField("gold_rate", "Gold rate", `Share of gold tasks, 0 to 1${describeShare(draft.gold_rate)}.`, "0.01");

  return (
    <form ref={form} className="campaign-form" onSubmit={submit} noValidate>
      {failure && (
        <p className="notice error" role="alert">
          {failure}
        </p>
      )}
      {basics && (
        <>
          <Field id={id("name")} label="Name" errors={errors.name}>
            <input
              {...describedBy(id("name"), errors.name)}
              className="input"
              maxLength={200}
              required
              value={draft.name}
              onChange={set("name")}
            />
          </Field>
          <Field id={id("judgment_mode")} label="Judgment mode" errors={errors.judgment_mode}>
            <select
              {...describedBy(id("judgment_mode"), errors.judgment_mode)}
              className="input"
              value={draft.judgment_mode}
              onChange={(event) => setDraft((current) => withMode(current, event.target.value as JudgmentMode))}
            >
              {MODES.map((mode) => (
                <option key={mode.value} value={mode.value}>
                  {mode.text}
                </option>
              ))}
            </select>
          </Field>
          <div className={`field${errors.is_arena ? " has-error" : ""}`}>
            <label className="check">
              <input
                {...describedBy(id("is_arena"), errors.is_arena, `${id("is_arena")}-hint`)}
                type="checkbox"
                checked={draft.is_arena}
                onChange={(event) => setDraft((current) => withArena(current, event.target.checked))}
              />
              Arena (blind model comparisons)
            </label>
            <p id={`${id("is_arena")}-hint`} className="field-hint">
              Raters see two answers to the same prompt from two different models, without their names, and say which is better; the console ranks the models from these votes.
              {draft.is_arena ? " An arena always compares two answers, so it uses pairwise mode with K = 2." : ""} It cannot change once the campaign has tasks.
            </p>
            {errors.is_arena && (
              <p id={`${id("is_arena")}-error`} className="field-error">
                {errors.is_arena.join(" ")}
              </p>
            )}
          </div>
          <div className="field-row">
            {numberField(
              "responses_per_task",
              "Responses per task (K)",
              draft.judgment_mode === "pairwise" ? "Always 2 when pairwise." : "2 to 16.",
              "1",
            )}
            {numberField("overlap", "Overlap", "Raters per task, 1 to 100.", "1")}
            {!quality && goldRate}
            {numberField("lease_ttl_s", "Lease TTL (seconds)", `How long a rater holds a task${describeSeconds(draft.lease_ttl_s) ? `: ${describeSeconds(draft.lease_ttl_s)}` : ""}.`, "1")}
          </div>
          <Field id={id("guidelines")} label="Guidelines (markdown)" errors={errors.guidelines} hint="Shown to raters beside every task.">
            <textarea
              {...describedBy(id("guidelines"), errors.guidelines, `${id("guidelines")}-hint`)}
              className="input"
              rows={6}
              value={draft.guidelines}
              onChange={set("guidelines")}
            />
            {preview && (
              <div className="guidelines-preview" aria-label="Guidelines preview" role="region">
                {draft.guidelines.trim() ? <Markdown text={draft.guidelines} /> : <p className="muted">No guidelines yet.</p>}
              </div>
            )}
          </Field>
          <fieldset className="form-part">
            <legend>Who judges generated tasks</legend>
            <Field
              id={id("routing")}
              label="Routing"
              errors={errors.routing}
              hint="After a generation round, the tasks the newest reward ensemble (by uncertainty) or an LLM judge asked in both orders (by judge) is least sure of go to raters; the others are stored as model labels, never as judgments, and left out of training unless a run's dataset asks for them."
            >
              <select
                {...describedBy(id("routing"), errors.routing, `${id("routing")}-hint`)}
                className="input"
                value={draft.routing}
                onChange={(event) => setDraft((current) => ({ ...current, routing: event.target.value as Routing }))}
              >
                {ROUTES.map((route) => (
                  <option key={route.value} value={route.value}>
                    {route.text}
                  </option>
                ))}
              </select>
            </Field>
            {draft.routing === "judge" && (
              <Field
                id={id("judge_model")}
                label="Judge model"
                errors={errors.judge_model}
                hint="Any causal LM the worker can load: smollm2 (the embedded model), a Hugging Face id or a local path. The quality report scores it against your raters."
              >
                <input
                  {...describedBy(id("judge_model"), errors.judge_model, `${id("judge_model")}-hint`)}
                  className="input"
                  value={draft.judge_model}
                  onChange={set("judge_model")}
                />
              </Field>
            )}
            {draft.routing !== "everything" && (
              <div className="field-row">
                {draft.routing === "uncertainty"
                  ? numberField(
                      "routing_confidence",
                      "Confident at (standard deviations)",
                      "A task whose every pair's mean reward margin is at least this many ensemble standard deviations from zero is labelled by the model.",
                      "any",
                    )
                  : numberField(
                      "routing_confidence",
                      "Sure at (log-odds)",
                      "A task is pre-labelled when the judge picks the same answer of each pair in both orders, with at least these log-odds in the less sure order (1 is about 73 %).",
                      "any",
                    )}
                {numberField("human_tasks_per_prompt", "Human tasks per prompt", draft.routing === "judge" ? "Most tasks per prompt a round sends to raters, those the judge is least sure of first (0: no limit)." : "Most tasks per prompt a round sends to raters, those whose labels would tell the ensemble most first (0: no limit).", "1")}
              </div>
            )}
          </fieldset>
        </>
      )}
      {quality && (
        <fieldset className="form-part">
          <legend>Gold and quality control</legend>
          <div className="field-row">
            {goldRate}
            {numberField("onboarding_gold", "Onboarding gold tasks", "A new rater's first this-many tasks are gold.", "1")}
            {numberField("repeat_rate", "Repeat rate", `Share of tasks shown again in swapped order, 0 to 0.5${describeShare(draft.repeat_rate)}.`, "0.01")}
            {numberField(
              "reading_floor_ms_per_char",
              "Reading floor (ms/char)",
              "Faster than this per character shown counts as too fast to read.",
              "any",
            )}
          </div>
          <div className="field-row">
            {numberField(
              "pause_gold_accuracy_below",
              "Pause below gold accuracy",
              `0 to 1${describeShare(draft.pause_gold_accuracy_below)}; leave empty for no automatic pause.`,
              "0.01",
              "never",
            )}
            {numberField("pause_gold_min_items", "Pause only after (gold tasks)", "Gold tasks a rater must have done before the rule applies.", "1")}
          </div>
        </fieldset>
      )}
      <div className="form-actions">
        {basics && (
          <button type="button" className="button small" aria-pressed={preview} onClick={() => setPreview((p) => !p)}>
            Preview guidelines
          </button>
        )}
        <span className="spacer" />
        {onCancel && (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </form>
  );
}
