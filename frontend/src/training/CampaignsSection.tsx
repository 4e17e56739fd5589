import { useRef, useState, type FormEvent } from "react";
import { Badge } from "../shared/Badge";
import { errorMessage, fieldErrors, unplacedErrors, type FieldErrors } from "../shared/errors";
import { describedBy, Done, ErrorNotice, Field, focusFirstInvalid, Loading, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import { readCeiling } from "./ceiling";
import { formatWhen } from "./format";
import { EMPTY_SCHEDULE, scheduleChanges, scheduleDraft, scheduleRequest, triggerProgress, validateSchedule, type ScheduleDraft } from "./schedule";
import type { NamedRef, Schedule } from "./types";

interface Props {
  campaignId: number | null;
  navigate: (hash: string) => void;
}

/** Per campaign: how good the reward model is against the raters' own agreement, and the
 * schedule that retrains from the campaign's judgments. */
export function CampaignsSection({ campaignId, navigate }: Props) {
  const options = useLoad(() => trainingApi.options());
  const campaigns = options.data?.campaigns ?? [];
  const current = campaigns.find((c) => c.id === campaignId) ?? null;
  return (
    <>
      <div className="section-head">
        <h1 id="section-title" tabIndex={-1}>
          Campaigns
        </h1>
        {campaigns.length > 0 && (
          <div className="campaign-picker">
            <label htmlFor="training-campaign">Campaign</label>
            <select id="training-campaign" className="input" value={current?.id ?? ""} onChange={(e) => navigate(e.target.value ? `#campaigns/${e.target.value}` : "#campaigns")}>
              <option value="">Choose a campaign…</option>
              {campaigns.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <ErrorNotice error={options.error} onRetry={options.reload} />
      {options.loading && !options.data ? (
        <Loading what="campaigns" />
      ) : campaigns.length === 0 ? (
        <p className="empty-state panel">No campaigns yet: an admin creates them in the console.</p>
      ) : !current ? (
        <p className="empty-state panel">Choose a campaign to see its reward model against the raters' agreement, and its retraining schedule.</p>
      ) : (
        <div className="detail-grid" key={current.id}>
          <CeilingPanel campaign={current} />
          <ScheduleEditor campaign={current} />
        </div>
      )}
    </>
  );
}

function CeilingPanel({ campaign }: { campaign: NamedRef }) {
  const ceiling = useLoad(() => trainingApi.ceiling(campaign.id), campaign.id);
  if (ceiling.error) return <ErrorNotice error={ceiling.error} onRetry={ceiling.reload} />;
  if (!ceiling.data) return <Loading what="the ceiling" />;
  const reading = readCeiling(ceiling.data);
  const human = ceiling.data.human_agreement;
  const model = ceiling.data.reward_model;
  const bars: [string, number | null, string, [number | null, number | null]][] = [
    [
      "A rater vs. the others' majority",
      reading.humanPercent,
      `${human.consensus_n} ratings, ties left out${reading.humanInterval ? `; 95 % ${reading.humanInterval}` : ""}`,
      [human.consensus_ci_low, human.consensus_ci_high],
    ],
    [
      "Reward model on held-out pairs",
      reading.modelPercent,
      `${model.version?.name ?? "no reward model"}${reading.modelInterval ? `; 95 % ${reading.modelInterval}` : ""}`,
      [model.val_ci_low, model.val_ci_high],
    ],
  ];
  return (
    <section className="panel" aria-labelledby="ceiling-title" data-testid="ceiling">
      <h2 id="ceiling-title">Reward model vs. its ceiling</h2>
      <dl className="ceiling-bars">
        {bars.map(([name, percent, note, [low, high]]) => (
          <div key={name} className="ceiling-bar">
            <dt>
              {name} <span className="muted">({note})</span>
            </dt>
            <dd>
              {/* the figure as a bar, its 95 % interval as a band over it */}
              <span className="run-bar" aria-hidden="true">
                <span style={{ width: `${Math.max(0, Math.min(100, percent ?? 0))}%` }} />
                {low !== null && high !== null && (
                  <i className="ceiling-interval" style={{ left: `${low * 100}%`, width: `${Math.max(0.5, (high - low) * 100)}%` }} />
                )}
              </span>
              <b>{percent === null ? "not known" : `${Math.round(percent * 10) / 10} %`}</b>
            </dd>
          </div>
        ))}
      </dl>
      {human.percent !== null && (
        <p className="muted">
          Every rater pair, ties included: {Math.round(human.percent * 1000) / 10} % agree
          {human.alpha !== null && `; Krippendorff's α ${human.alpha.toFixed(2)}`} ({human.n} pairs compared).
        </p>
      )}
      <p>{reading.sentence}</p>
    </section>
  );
}

function ScheduleEditor({ campaign }: { campaign: NamedRef }) {
  const schedules = useLoad(() => trainingApi.schedules());
  const schedule = schedules.data?.find((s) => s.campaign.id === campaign.id) ?? null;
  if (schedules.error) return <ErrorNotice error={schedules.error} onRetry={schedules.reload} />;
  if (!schedules.data) return <Loading what="the schedule" />;
  return (
    <section className="panel" aria-labelledby="schedule-title">
      <h2 id="schedule-title">Retraining schedule</h2>
      <ScheduleForm key={schedule?.id ?? "new"} campaign={campaign} schedule={schedule} onSaved={schedules.reload} />
    </section>
  );
}

const SCHEDULE_FIELDS = [
  "enabled",
  "every_n_judgments",
  "cron",
  "policy_kind",
  "generate_prompts",
  "responses_per_prompt",
  "check_reward_version_id",
  "arena_campaign_id",
  "gate_max_comparisons",
];

function ScheduleForm({ campaign, schedule, onSaved }: { campaign: NamedRef; schedule: Schedule | null; onSaved: () => void }) {
  const initial = schedule ? scheduleDraft(schedule) : EMPTY_SCHEDULE;
  const [draft, setDraft] = useState<ScheduleDraft>(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const set = (field: keyof ScheduleDraft) => (event: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: event.target.value }));
  const fid = (field: string) => `schedule-${field}`;
  const versions = useLoad(() => trainingApi.versions());
  const arenas = useLoad(() => trainingApi.arenaCampaigns());

  async function save(event: FormEvent) {
    event.preventDefault();
    const found = validateSchedule(draft);
    setErrors(found);
    setFailure(null);
    setDone(null);
    if (Object.keys(found).length > 0) return focusFirstInvalid(form.current);
    setBusy(true);
    try {
      if (schedule) {
        const changes = scheduleChanges(initial, draft);
        if (Object.keys(changes).length === 0) setDone("Nothing changed.");
        else {
          await trainingApi.updateSchedule(schedule.id, changes);
          setDone("Schedule saved.");
          onSaved();
        }
      } else {
        await trainingApi.createSchedule({ ...scheduleRequest(draft), campaign_id: campaign.id });
        onSaved();
      }
    } catch (caught) {
      const fields = fieldErrors(caught);
      setErrors(fields);
      const stray = unplacedErrors(fields, SCHEDULE_FIELDS);
      setFailure(Object.keys(fields).length > 0 && stray.length === 0 ? "Some fields need fixing: see below each." : errorMessage(caught));
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!schedule) return;
    setBusy(true);
    try {
      await trainingApi.deleteSchedule(schedule.id);
      onSaved();
    } catch (caught) {
      setFailure(errorMessage(caught));
      setBusy(false);
    }
  }

  const trigger = schedule ? triggerProgress(schedule) : null;
  const rewards = (versions.data ?? []).filter((version) => version.kind === "reward");
  return (
    <form ref={form} className="schedule-form" onSubmit={save} noValidate aria-label={`Retraining schedule for ${campaign.name}`}>
      {schedule && trigger ? (
        <div className="schedule-state">
          <p>
            <Badge tone={schedule.enabled ? "ok" : "warn"}>{schedule.enabled ? "Enabled" : "Disabled"}</Badge>{" "}
            <span data-testid="judgments-since">{trigger.text}</span>
          </p>
          {trigger.fraction !== null && (
            <div className="run-bar" role="progressbar" aria-label="Judgments toward the next round" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(trigger.fraction * 100)}>
              <span style={{ width: `${trigger.fraction * 100}%` }} />
            </div>
          )}
          <p className="muted">Last round: {schedule.last_fired_at ? formatWhen(schedule.last_fired_at) : "never"}.</p>
        </div>
      ) : (
        <p className="muted">No schedule yet: rounds for this campaign start only by hand.</p>
      )}
      <p className="field-hint">Each round retrains the reward model, then runs a PPO or DPO round, then generates the next tasks from the new policy.</p>
      <label className="check">
        <input type="checkbox" checked={draft.enabled} onChange={(e) => setDraft((d) => ({ ...d, enabled: e.target.checked }))} />
        Enabled
      </label>
      <div className="field-row">
        <Field id={fid("every_n_judgments")} label="Every N new judgments" errors={errors.every_n_judgments} hint="Empty: judgments do not trigger it.">
          <input {...describedBy(fid("every_n_judgments"), errors.every_n_judgments, `${fid("every_n_judgments")}-hint`)} className="input" inputMode="numeric" value={draft.every_n_judgments} onChange={set("every_n_judgments")} />
        </Field>
        <Field id={fid("cron")} label="Cron" errors={errors.cron} hint="minute hour day month weekday, server time; e.g. 0 3 * * *.">
          <input {...describedBy(fid("cron"), errors.cron, `${fid("cron")}-hint`)} className="input mono" value={draft.cron} onChange={set("cron")} spellCheck={false} />
        </Field>
      </div>
      <div className="field-row">
        <Field id={fid("policy_kind")} label="Policy round" errors={errors.policy_kind}>
          <select {...describedBy(fid("policy_kind"), errors.policy_kind)} className="input" value={draft.policy_kind} onChange={set("policy_kind")}>
            <option value="ppo">PPO (against the new reward model)</option>
            <option value="grpo">GRPO (against the new reward model, no value model)</option>
            <option value="rloo">RLOO (against the new reward model, no value model)</option>
            <option value="dpo">DPO (from the preference pairs)</option>
          </select>
        </Field>
        <Field id={fid("generate_prompts")} label="Prompts to generate" errors={errors.generate_prompts}>
          <input {...describedBy(fid("generate_prompts"), errors.generate_prompts)} className="input" inputMode="numeric" value={draft.generate_prompts} onChange={set("generate_prompts")} />
        </Field>
        <Field id={fid("responses_per_prompt")} label="Responses per prompt (K)" errors={errors.responses_per_prompt}>
          <input {...describedBy(fid("responses_per_prompt"), errors.responses_per_prompt)} className="input" inputMode="numeric" value={draft.responses_per_prompt} onChange={set("responses_per_prompt")} />
        </Field>
      </div>
      <Field
        id={fid("check_reward_version_id")}
        label="Second reward model for the watch"
        errors={errors.check_reward_version_id}
        hint="Each round's new policy is also judged against its parent by this model; a reward that rises while this win rate falls ends the round with a warning."
      >
        <select
          {...describedBy(fid("check_reward_version_id"), errors.check_reward_version_id, `${fid("check_reward_version_id")}-hint`)}
          className="input"
          value={draft.check_reward_version_id}
          onChange={set("check_reward_version_id")}
        >
          <option value="">None: the watch uses length and KL only</option>
          {rewards.map((version) => (
            <option key={version.id} value={String(version.id)}>
              {version.name}
            </option>
          ))}
          {draft.check_reward_version_id !== "" && !rewards.some((v) => String(v.id) === draft.check_reward_version_id) && (
            <option value={draft.check_reward_version_id}>{schedule?.check_reward_version?.name ?? `Version ${draft.check_reward_version_id}`}</option>
          )}
        </select>
      </Field>
      <div className="field-row">
        <Field
          id={fid("arena_campaign_id")}
          label="Promotion gate: arena"
          errors={errors.arena_campaign_id}
          hint="With a gate, each round's new policy and its parent answer this arena's prompts; the new one is promoted only when raters prefer it, else it is kept but not promoted."
        >
          <select
            {...describedBy(fid("arena_campaign_id"), errors.arena_campaign_id, `${fid("arena_campaign_id")}-hint`)}
            className="input"
            value={draft.arena_campaign_id}
            onChange={set("arena_campaign_id")}
          >
            <option value="">No gate: every new policy is used</option>
            {(arenas.data ?? []).map((arena) => (
              <option key={arena.id} value={String(arena.id)}>
                {arena.name}
              </option>
            ))}
            {draft.arena_campaign_id !== "" && !(arenas.data ?? []).some((a) => String(a.id) === draft.arena_campaign_id) && (
              <option value={draft.arena_campaign_id}>{schedule?.arena_campaign?.name ?? `Campaign ${draft.arena_campaign_id}`}</option>
            )}
          </select>
        </Field>
        <Field
          id={fid("gate_max_comparisons")}
          label="At most N comparisons"
          errors={errors.gate_max_comparisons}
          hint="The gate decides by this many comparisons at the latest, 1 to 100000."
        >
          <input
            {...describedBy(fid("gate_max_comparisons"), errors.gate_max_comparisons, `${fid("gate_max_comparisons")}-hint`)}
            className="input"
            inputMode="numeric"
            value={draft.gate_max_comparisons}
            onChange={set("gate_max_comparisons")}
          />
        </Field>
      </div>
      {arenas.data && arenas.data.length === 0 && (
        <p className="field-hint">No arena campaign yet: an admin creates one in the console with “Arena” ticked.</p>
      )}
      {failure && (
        <p className="notice error" role="alert">
          {failure}
        </p>
      )}
      <Done text={done} />
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {schedule ? "Save schedule" : "Create schedule"}
        </button>
        <span className="spacer" />
        {schedule &&
          (confirmDelete ? (
            <span className="confirm">
              <span>Delete the schedule?</span>
              <button type="button" className="button danger" onClick={remove} disabled={busy}>
                Delete
              </button>
              <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </span>
          ) : (
            <button type="button" className="button danger" onClick={() => setConfirmDelete(true)}>
              Delete schedule…
            </button>
          ))}
      </div>
    </form>
  );
}
