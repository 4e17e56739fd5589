import { useState } from "react";
import { consoleApi, type AdminTask, type Campaign } from "./api";
import { CampaignForm } from "./CampaignForm";
import { CampaignSectionHead, useCampaignChoice } from "./CampaignPicker";
import { draftFrom, patchPayload } from "./campaignForm";
import { GoldEditor } from "./GoldEditor";
import { describeGold, labelsFor } from "./goldTiers";
import { Done, ErrorNotice, Loading, useLoad } from "../shared/ui";

const PAGE = 10;

/** Gold tasks: a campaign's gold settings, and its tasks made gold (or regular again). */
export function GoldSection() {
  const campaigns = useLoad(consoleApi.campaigns);
  const [campaign, choose] = useCampaignChoice(campaigns.data);
  const replace = (updated: Campaign) =>
    campaigns.setData((rows) => rows && rows.map((row) => (row.id === updated.id ? updated : row)));
  const countGold = (id: number, delta: number) =>
    campaigns.setData((rows) => rows && rows.map((row) => (row.id === id ? { ...row, gold_count: row.gold_count + delta } : row)));

  return (
    <>
      <CampaignSectionHead title="Gold tasks" pickerId="gold-campaign" campaigns={campaigns} value={campaign} onChange={choose} />
      {campaign && (
        <>
          <GoldSettings key={`settings-${campaign.id}`} campaign={campaign} onSaved={replace} />
          <TaskList key={`tasks-${campaign.id}`} campaign={campaign} onGoldChanged={(delta) => countGold(campaign.id, delta)} />
        </>
      )}
    </>
  );
}

function goldWarning(campaign: Campaign): string | null {
  const rate = campaign.gold_rate ?? 0;
  const onboarding = campaign.onboarding_gold ?? 0;
  if (campaign.gold_count === 0 && (rate > 0 || onboarding > 0)) {
    return "The campaign asks for gold tasks but has none yet: raters get no gold until you make some below.";
  }
  if (campaign.gold_count > 0 && rate === 0 && onboarding === 0) {
    return "Gold tasks are never handed out: set a gold rate or onboarding gold tasks.";
  }
  return null;
}

function GoldSettings({ campaign, onSaved }: { campaign: Campaign; onSaved: (campaign: Campaign) => void }) {
  const [done, setDone] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const warning = goldWarning(campaign);
  return (
    <section className="panel" aria-labelledby="gold-settings-title">
      <h2 id="gold-settings-title">Gold settings</h2>
      <p className="field-hint" data-testid="gold-count">
        “{campaign.name}” has {campaign.gold_count} gold {campaign.gold_count === 1 ? "task" : "tasks"} of {campaign.task_count}.
      </p>
      {warning && <p className="notice warning">{warning}</p>}
      <Done text={done} />
      <CampaignForm
        key={version}
        idPrefix={`gold-${campaign.id}`}
        parts={["quality"]}
        initial={draftFrom(campaign)}
        submitLabel="Save gold settings"
        busyLabel="Saving…"
        onSave={async (draft) => {
          setDone(null);
          const patch = patchPayload(campaign, draft);
          const count = Object.keys(patch).length;
          if (count === 0) {
            setDone("Nothing changed.");
            return;
          }
          const updated = await consoleApi.updateCampaign(campaign.id, patch);
          onSaved({ ...updated, gold_count: campaign.gold_count });
          setVersion((v) => v + 1);
          setDone(`Saved ${count === 1 ? "1 setting" : `${count} settings`}.`);
        }}
      />
    </section>
  );
}

function TaskList({ campaign, onGoldChanged }: { campaign: Campaign; onGoldChanged: (delta: number) => void }) {
  const [gold, setGold] = useState(false);
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<number | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const tasks = useLoad(() => consoleApi.tasks(campaign.id, gold, offset, PAGE), `${gold}:${offset}`);
  const count = tasks.data?.count ?? 0;

  function show(nextGold: boolean) {
    setGold(nextGold);
    setOffset(0);
    setEditing(null);
    setDone(null);
  }

  function changed(task: AdminTask, message: string) {
    const stays = task.is_gold === gold;
    tasks.setData(
      (page) =>
        page && {
          ...page,
          count: stays ? page.count : page.count - 1,
          results: stays ? page.results.map((t) => (t.id === task.id ? task : t)) : page.results.filter((t) => t.id !== task.id),
        },
    );
    setEditing(null);
    setDone(message);
  }

  return (
    <section className="panel" aria-labelledby="gold-tasks-title">
      <h2 id="gold-tasks-title">Tasks</h2>
      <div className="segmented" role="group" aria-label="Which tasks">
        <button type="button" className="segment" aria-pressed={!gold} onClick={() => show(false)}>
          Regular tasks
        </button>
        <button type="button" className="segment" aria-pressed={gold} onClick={() => show(true)}>
          Gold tasks
        </button>
      </div>
      <Done text={done} />
      {tasks.error ? <ErrorNotice error={tasks.error} onRetry={tasks.reload} /> : null}
      {tasks.loading && !tasks.data ? <Loading what="tasks" /> : null}
      {tasks.data && tasks.data.results.length === 0 && (
        <p className="muted">{gold ? "No gold tasks yet: make some from the regular tasks." : "No regular tasks."}</p>
      )}
      {tasks.data && tasks.data.results.length > 0 && (
        <ol className="task-list" data-testid="task-list" aria-busy={tasks.loading || undefined}>
          {tasks.data.results.map((task) => (
            <TaskCard
              key={task.id}
              task={task}
              editing={editing === task.id}
              onEdit={() => {
                setDone(null);
                setEditing(editing === task.id ? null : task.id);
              }}
              onCancel={() => setEditing(null)}
              onChanged={(updated, message, delta) => {
                changed(updated, message);
                if (delta) onGoldChanged(delta);
              }}
            />
          ))}
        </ol>
      )}
      {count > PAGE && (
        <div className="pager">
          <button type="button" className="button small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span className="muted">
            {offset + 1}–{Math.min(offset + PAGE, count)} of {count}
          </span>
          <button type="button" className="button small" disabled={offset + PAGE >= count} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      )}
    </section>
  );
}

interface CardProps {
  task: AdminTask;
  editing: boolean;
  onEdit: () => void;
  onCancel: () => void;
  onChanged: (task: AdminTask, message: string, goldDelta: number) => void;
}

function TaskCard({ task, editing, onEdit, onCancel, onChanged }: CardProps) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const labels = labelsFor(task.responses);
  const titleId = `task-${task.id}-title`;

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      const updated = await consoleApi.unmarkGold(task.id);
      onChanged(updated, `Task ${task.id} is a regular task again.`, -1);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <li className={`task-card${editing ? " is-editing" : ""}`} aria-labelledby={titleId} data-task-id={task.id}>
      <div className="gold-task-head">
        <h3 id={titleId}>Task {task.id}</h3>
        {task.is_gold && <span className="badge gold-badge">Gold</span>}
        <span className="muted">
          {task.submitted_count} of {task.required_judgments} judgments
        </span>
      </div>
      <div className="task-prompt">
        {task.prompt.map((message, index) => (
          <p key={index} className="task-message">
            <span className="task-role">{message.role ?? "user"}:</span> {message.content}
          </p>
        ))}
      </div>
      <ol className="task-responses">
        {task.responses.map((response, index) => (
          <li key={response.id}>
            <span className="gold-letter" aria-hidden="true">
              {labels[index]}
            </span>
            <span className="visually-hidden">Response {labels[index]}: </span>
            <span className="response-text">{response.text}</span>
            {response.generator && <span className="muted generator"> · {response.generator}</span>}
          </li>
        ))}
      </ol>
      {task.is_gold && task.gold_ranking && (
        <p className="gold-order">
          <b>Gold ranking:</b> {describeGold(task.responses, task.gold_ranking)}
        </p>
      )}
      <ErrorNotice error={error} />
      {!editing && (
        <div className="form-actions">
          <button type="button" className="button small" aria-expanded={editing} onClick={onEdit}>
            {task.is_gold ? "Edit gold ranking" : "Make gold"}
            <span className="visually-hidden"> (task {task.id})</span>
          </button>
          {task.is_gold &&
            (confirming ? (
              <span className="confirm" role="group" aria-label={`Remove gold from task ${task.id}?`}>
                <span>Remove gold from task {task.id}? Its ranking is forgotten.</span>
                <button type="button" className="button small danger" disabled={busy} onClick={remove}>
                  Remove
                </button>
                <button type="button" className="button small" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </span>
            ) : (
              <button type="button" className="button small danger" onClick={() => setConfirming(true)}>
                Remove gold<span className="visually-hidden"> (task {task.id})</span>
              </button>
            ))}
        </div>
      )}
      {editing && (
        <GoldEditor
          task={task}
          onCancel={onCancel}
          onSaved={(updated, order) =>
            onChanged(updated, `Task ${task.id} is gold: ${order}.`, task.is_gold ? 0 : 1)
          }
        />
      )}
    </li>
  );
}
