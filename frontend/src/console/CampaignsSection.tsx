import { useMemo, useState } from "react";
import { consoleApi, type Campaign, type CampaignStatus } from "./api";
import { CampaignForm } from "./CampaignForm";
import { createPayload, draftFrom, EMPTY_DRAFT, patchPayload } from "./campaignForm";
import { taskProgress } from "./campaignStats";
import { DataTable } from "../shared/DataTable";
import { ImportPanel } from "./ImportPanel";
import { AnnotatedJudgments } from "./AnnotatedJudgments";
import { JudgmentTrend } from "./JudgmentTrend";
import type { Column } from "../shared/table";
import { Done, ErrorNotice, Loading, revealOnMount, useLoad } from "../shared/ui";
import { ArenaBadge, StatusBadge } from "./StatusBadge";
import { RefreshButton, SectionHead } from "../shared/SectionHead";

const STATUSES: { value: CampaignStatus; text: string; hint: string }[] = [
  { value: "draft", text: "Draft", hint: "not offered to raters yet" },
  { value: "active", text: "Active", hint: "raters get its tasks" },
  { value: "paused", text: "Paused", hint: "no new tasks handed out" },
  { value: "archived", text: "Archived", hint: "finished; kept for export" },
];

const MODE_TEXT: Record<string, string> = { rank: "Rank", pairwise: "Pairwise" };

export function CampaignsSection() {
  const campaigns = useLoad(consoleApi.campaigns);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [creating, setCreating] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const selected = campaigns.data?.find((c) => c.id === selectedId) ?? null;

  const replace = (campaign: Campaign) =>
    campaigns.setData((rows) => rows && rows.map((row) => (row.id === campaign.id ? campaign : row)));

  const columns = useMemo<Column<Campaign>[]>(
    () => [
      { key: "name", header: "Name", value: (c) => c.name, render: (c) => <span className="cell-strong">{c.name}</span> },
      { key: "status", header: "Status", value: (c) => c.status, render: (c) => <StatusBadge status={c.status ?? "active"} /> },
      {
        key: "mode",
        header: "Mode",
        value: (c) => `${MODE_TEXT[c.judgment_mode ?? "rank"] ?? c.judgment_mode}${c.is_arena ? " arena" : ""}`,
        render: (c) => (
          <>
            {MODE_TEXT[c.judgment_mode ?? "rank"] ?? c.judgment_mode}
            {c.is_arena && (
              <>
                {" "}
                <ArenaBadge />
              </>
            )}
          </>
        ),
      },
      { key: "overlap", header: "Overlap", value: (c) => c.overlap, numeric: true },
      { key: "k", header: "K", value: (c) => c.responses_per_task, numeric: true },
      {
        key: "progress",
        header: "Progress",
        value: (c) => taskProgress(c).fraction,
        render: (c) => {
          const progress = taskProgress(c);
          return (
            <span className="progress-cell">
              <span className="bar" aria-hidden="true">
                <span style={{ width: `${progress.fraction * 100}%` }} />
              </span>
              {progress.text}
            </span>
          );
        },
      },
      { key: "judgments", header: "Judgments", value: (c) => c.judgment_count, numeric: true },
      { key: "model_labels", header: "Model labels", value: (c) => c.model_label_count, numeric: true },
      {
        key: "actions",
        header: "Actions",
        sortable: false,
        value: () => null,
        render: (c) => (
          <button
            type="button"
            className="button small"
            aria-expanded={selectedId === c.id}
            aria-controls="campaign-detail"
            onClick={() => {
              setCreating(false);
              setDone(null);
              setSelectedId(selectedId === c.id ? null : c.id);
            }}
          >
            {selectedId === c.id ? "Close" : "Manage"}
            <span className="visually-hidden"> {c.name}</span>
          </button>
        ),
      },
    ],
    [selectedId],
  );

  return (
    <>
      <SectionHead title="Campaigns">
        <RefreshButton onClick={campaigns.reload} />
        <button
          type="button"
          className="button primary"
          aria-expanded={creating}
          aria-controls="campaign-create"
          onClick={() => {
            setCreating((c) => !c);
            setSelectedId(null);
            setDone(null);
          }}
        >
          New campaign
        </button>
      </SectionHead>
      <Done text={done} />
      {creating && (
        <section id="campaign-create" className="panel" aria-labelledby="campaign-create-title">
          <h2 id="campaign-create-title">New campaign</h2>
          <CampaignForm
            idPrefix="new-campaign"
            initial={EMPTY_DRAFT}
            submitLabel="Create campaign"
            busyLabel="Creating…"
            onCancel={() => setCreating(false)}
            onSave={async (draft) => {
              const created = await consoleApi.createCampaign(createPayload(draft));
              campaigns.setData((rows) => [created, ...(rows ?? [])]);
              setCreating(false);
              setSelectedId(created.id);
              setDone(`Campaign “${created.name}” created. Import tasks into it below, then assign it to a pool.`);
            }}
          />
        </section>
      )}
      {campaigns.error ? <ErrorNotice error={campaigns.error} onRetry={campaigns.reload} /> : null}
      {campaigns.loading && !campaigns.data ? (
        <Loading what="campaigns" />
      ) : (
        campaigns.data && (
          <DataTable
            caption="Campaigns"
            testId="campaigns-table"
            columns={columns}
            rows={campaigns.data}
            rowKey={(c) => c.id}
            isSelected={(c) => c.id === selectedId}
            empty="No campaigns yet: create one."
          />
        )
      )}
      {selected && (
        <CampaignDetail
          key={selected.id}
          campaign={selected}
          onChanged={(campaign, message) => {
            replace(campaign);
            setDone(message);
          }}
          onImported={campaigns.reload}
        />
      )}
    </>
  );
}

interface DetailProps {
  campaign: Campaign;
  onChanged: (campaign: Campaign, message: string) => void;
  onImported: () => void;
}

function CampaignDetail({ campaign, onChanged, onImported }: DetailProps) {
  const [statusError, setStatusError] = useState<unknown>(null);
  const [statusBusy, setStatusBusy] = useState(false);
  const status = campaign.status ?? "active";

  async function changeStatus(next: CampaignStatus) {
    if (next === status) return;
    setStatusBusy(true);
    setStatusError(null);
    try {
      const updated = await consoleApi.updateCampaign(campaign.id, { status: next });
      onChanged(updated, `“${updated.name}” is now ${next}.`);
    } catch (caught) {
      setStatusError(caught);
    } finally {
      setStatusBusy(false);
    }
  }

  return (
    <section id="campaign-detail" ref={revealOnMount} className="panel detail" aria-labelledby="campaign-detail-title">
      <h2 id="campaign-detail-title">{campaign.name}</h2>
      <div className="status-picker" role="group" aria-labelledby={`campaign-${campaign.id}-status`}>
        <span id={`campaign-${campaign.id}-status`} className="group-label">
          Status
        </span>
        <div className="segmented">
          {STATUSES.map((option) => (
            <button
              key={option.value}
              type="button"
              className="segment"
              aria-pressed={status === option.value}
              disabled={statusBusy}
              onClick={() => changeStatus(option.value)}
            >
              {option.text}
            </button>
          ))}
        </div>
        <p className="field-hint">
          {STATUSES.find((o) => o.value === status)?.text}: {STATUSES.find((o) => o.value === status)?.hint}.
        </p>
      </div>
      <ErrorNotice error={statusError} />
      <div className="detail-grid">
        <div>
          <h3>Settings</h3>
          <CampaignForm
            idPrefix={`campaign-${campaign.id}`}
            initial={draftFrom(campaign)}
            submitLabel="Save settings"
            busyLabel="Saving…"
            onSave={async (draft) => {
              const patch = patchPayload(campaign, draft);
              if (Object.keys(patch).length === 0) {
                onChanged(campaign, "Nothing changed.");
                return;
              }
              const updated = await consoleApi.updateCampaign(campaign.id, patch);
              onChanged(updated, `Saved ${Object.keys(patch).length === 1 ? "1 setting" : `${Object.keys(patch).length} settings`} of “${updated.name}”.`);
            }}
          />
        </div>
        <div className="detail-side">
          {campaign.is_arena && (
            <p>
              <ArenaBadge /> Its raters compare two models' answers blind: <a href={`#quality/${campaign.id}`}>see the arena leaderboard</a>.
            </p>
          )}
          <ImportPanel campaign={campaign} onImported={onImported} />
          <JudgmentTrend key={campaign.judgment_count} campaignId={campaign.id} />
          <AnnotatedJudgments key={`annotated-${campaign.judgment_count}`} campaignId={campaign.id} />
        </div>
      </div>
    </section>
  );
}
