import { useMemo, useState } from "react";
import { ROLE_NAMES } from "../routes";
import { consoleApi, type Campaign, type Pool, type Rater } from "./api";
import { CampaignPicker, useCampaignChoice } from "./CampaignPicker";
import { DataTable } from "../shared/DataTable";
import { NewRaterDialog } from "./NewRaterDialog";
import { PauseDialog } from "./PauseDialog";
import { flagWords, formatDuration, formatShare, rowsById } from "./quality";
import type { RaterRow } from "./qualityTypes";
import { Done, ErrorNotice, Loading, useLoad } from "../shared/ui";
import { StatusBadge } from "./StatusBadge";
import type { Column } from "../shared/table";
import { RefreshButton, SectionHead } from "../shared/SectionHead";

async function loadRaters(): Promise<{ raters: Rater[]; pools: Pool[]; campaigns: Campaign[] }> {
  const [raters, pools, campaigns] = await Promise.all([consoleApi.raters(), consoleApi.pools(), consoleApi.campaigns()]);
  return { raters, pools, campaigns };
}

interface ColumnContext {
  poolNames: (rater: Rater) => string;
  onPause: (rater: Rater) => void;
  onResume: (rater: Rater) => void;
  busyId: number | null;
  /** Each rater's row of the chosen campaign's quality report; null: no quality columns. */
  quality?: Map<number, RaterRow> | null;
}

/** The quality report's columns for the raters table (empty cells for raters not in it). */
export function qualityColumns(quality: Map<number, RaterRow>): Column<Rater>[] {
  const row = (r: Rater) => quality.get(r.id);
  return [
    {
      key: "loo",
      header: "Agreement",
      numeric: true,
      value: (r) => row(r)?.loo_agreement.value ?? null,
      render: (r) => {
        const loo = row(r)?.loo_agreement;
        return loo?.value == null ? "–" : <span className={loo.flagged ? "is-flagged-text" : undefined}>{formatShare(loo.value)}</span>;
      },
    },
    {
      key: "gold",
      header: "Gold",
      numeric: true,
      value: (r) => row(r)?.gold_accuracy.value ?? null,
      render: (r) => {
        const gold = row(r)?.gold_accuracy;
        return gold?.value == null ? "–" : `${formatShare(gold.value)} (${gold.items} gold)`;
      },
    },
    {
      key: "median_time",
      header: "Median time",
      numeric: true,
      value: (r) => row(r)?.median_time_ms ?? null,
      render: (r) => (row(r)?.median_time_ms == null ? "–" : formatDuration(row(r)?.median_time_ms)),
    },
    {
      key: "flags",
      header: "Flags",
      value: (r) => row(r)?.flags.map(flagWords).join(", ") || null,
      render: (r) => {
        const found = row(r);
        if (!found) return "–"; // no judgments in this campaign
        if (found.flags.length === 0) return <span className="muted">{found.tested ? "none" : "too few to test"}</span>;
        return <span className="flag-words">{found.flags.map(flagWords).join(", ")}</span>;
      },
    },
  ];
}

/** The raters table's columns, in order; the quality report's columns come before the actions
 * when a campaign is chosen. */
export function raterColumns({ poolNames, onPause, onResume, busyId, quality }: ColumnContext): Column<Rater>[] {
  return [
    { key: "username", header: "Username", value: (r) => r.username, render: (r) => <span className="cell-strong">{r.username}</span> },
    { key: "role", header: "Role", value: (r) => ROLE_NAMES[r.role] ?? r.role },
    {
      key: "status",
      header: "Status",
      value: (r) => r.status,
      render: (r) => (
        <span className="status-cell">
          <StatusBadge status={r.status} />
          {r.status === "paused" && r.paused_reason && <span className="muted reason">{r.paused_reason}</span>}
        </span>
      ),
    },
    { key: "pools", header: "Pools", value: (r) => poolNames(r) || null, render: (r) => poolNames(r) || <span className="muted">none</span> },
    { key: "judgments", header: "Judgments", value: (r) => r.judgment_count, numeric: true },
    ...(quality ? qualityColumns(quality) : []),
    {
      key: "actions",
      header: "Actions",
      sortable: false,
      value: () => null,
      render: (r) =>
        r.status === "paused" ? (
          <button type="button" className="button small" disabled={busyId === r.id} onClick={() => onResume(r)}>
            Resume<span className="visually-hidden"> {r.username}</span>
          </button>
        ) : (
          <button type="button" className="button small" disabled={busyId === r.id} onClick={() => onPause(r)}>
            Pause…<span className="visually-hidden"> {r.username}</span>
          </button>
        ),
    },
  ];
}

export function RatersSection() {
  const all = useLoad(loadRaters);
  const [pausing, setPausing] = useState<Rater | null>(null);
  const [adding, setAdding] = useState(false);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [campaign, chooseCampaign] = useCampaignChoice(all.data?.campaigns ?? null, "none");
  const report = useLoad(() => (campaign ? consoleApi.qualityReport(campaign.id) : Promise.resolve(null)), campaign?.id ?? 0);
  // While another campaign's report loads, the last one's figures must not show under its name.
  const current = report.data && campaign && report.data.campaign_id === campaign.id ? report.data : null;
  const quality = useMemo(() => (current ? rowsById(current) : null), [current]);

  const replace = (rater: Rater) =>
    all.setData((d) => d && { ...d, raters: d.raters.map((r) => (r.id === rater.id ? rater : r)) });

  async function change(rater: { id: number }, work: () => Promise<Rater>, message: (r: Rater) => string) {
    setBusyId(rater.id);
    setError(null);
    setDone(null);
    try {
      const updated = await work();
      replace(updated);
      setDone(message(updated));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusyId(null);
    }
  }

  const pools = all.data?.pools;
  const columns = useMemo(() => {
    const names = new Map((pools ?? []).map((p) => [p.id, p.name]));
    return raterColumns({
      poolNames: (r) => r.pool_ids.map((id) => names.get(id) ?? `#${id}`).join(", "),
      onPause: (r) => setPausing(r),
      onResume: (r) => change(r, () => consoleApi.resumeRater(r.id), (u) => `${u.username} can rate again.`),
      busyId,
      quality,
    });
    // change() only uses state setters; its identity does not matter.
  }, [pools, busyId, quality]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <>
      <SectionHead title="Raters">
        <button type="button" className="button primary" onClick={() => setAdding(true)}>
          Add rater…
        </button>
        <RefreshButton onClick={all.reload} />
      </SectionHead>
      {all.data && (
        <div className="section-filters">
          <CampaignPicker
            id="raters-campaign"
            label="Quality figures from"
            noneLabel="No campaign (hide quality columns)"
            campaigns={all.data.campaigns}
            value={campaign}
            onChange={chooseCampaign}
          />
          {campaign && report.loading ? <Loading what="the quality report" /> : null}
          {current && (
            <p className="field-hint">
              Agreement: with the other raters' majority on the same pairs. Gold: accuracy on gold tasks. Flags: see the
              Quality section's bias report.
            </p>
          )}
        </div>
      )}
      {campaign && report.error ? <ErrorNotice error={report.error} onRetry={report.reload} /> : null}
      <Done text={done} />
      <ErrorNotice error={error} />
      {all.error ? <ErrorNotice error={all.error} onRetry={all.reload} /> : null}
      {all.loading && !all.data ? <Loading what="raters" /> : null}
      {all.data && (
        <DataTable
          caption="Raters"
          testId="raters-table"
          columns={columns}
          rows={all.data.raters}
          rowKey={(r) => r.id}
          initialSort={{ key: "username", direction: "ascending" }}
          empty="No raters yet."
        />
      )}
      <NewRaterDialog
        open={adding}
        onClose={() => setAdding(false)}
        onCreate={async (body) => {
          const created = await consoleApi.createRater(body);
          all.setData((d) => d && { ...d, raters: [...d.raters, created] });
          setError(null);
          setDone(`${created.username} can now sign in as ${ROLE_NAMES[created.role] ?? created.role}.`);
          return created;
        }}
      />
      <PauseDialog
        key={pausing?.id ?? "closed"}
        rater={pausing}
        onClose={() => setPausing(null)}
        onPause={(rater, reason) => {
          setPausing(null);
          change(rater, () => consoleApi.pauseRater(rater.id, reason), (u) => `${u.username} is paused: their open tasks were released.`);
        }}
      />
    </>
  );
}
