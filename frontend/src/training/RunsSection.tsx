import { useCallback, useMemo } from "react";
import { DataTable } from "../shared/DataTable";
import type { Column } from "../shared/table";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import { formatWhen, KIND_NAMES } from "./format";
import { shouldPoll, usePolling } from "./polling";
import { RunDetail } from "./RunDetail";
import type { Run } from "./types";
import { RunProgress, RunStatusBadge } from "./widgets";

const LIMIT = 50;

/** Every run, newest first, with live progress; the chosen run's detail below. */
export function RunsSection({ runId }: { runId: number | null }) {
  const runs = useLoad(() => trainingApi.runs(LIMIT));
  const { setData } = runs;
  const rows = useMemo(() => runs.data?.results ?? [], [runs.data]);
  const refresh = useCallback(() => trainingApi.runs(LIMIT).then((page) => setData(() => page)), [setData]);
  usePolling(refresh, shouldPoll(rows, false));

  const columns = useMemo<Column<Run>[]>(
    () => [
      {
        key: "id",
        header: "Run",
        value: (run) => run.id,
        render: (run) => (
          <a href={`#runs/${run.id}`} className="cell-strong" aria-current={run.id === runId ? "true" : undefined}>
            #{run.id} {KIND_NAMES[run.kind]}
          </a>
        ),
      },
      { key: "status", header: "Status", value: (run) => run.status, render: (run) => <RunStatusBadge status={run.status} stopping={run.cancel_requested} /> },
      {
        key: "progress",
        header: "Progress",
        value: (run) => run.progress,
        render: (run) => <RunProgress run={run} label={`Run ${run.id} progress`} />,
      },
      {
        key: "source",
        header: "From",
        sortable: false,
        value: (run) => run.parent_version?.name ?? run.base,
        render: (run) => <span className="muted">{run.parent_version?.name ?? run.base ?? "–"}</span>,
      },
      { key: "created", header: "Created", value: (run) => run.created_at, render: (run) => formatWhen(run.created_at) },
      { key: "started", header: "Started", value: (run) => run.started_at ?? "", render: (run) => formatWhen(run.started_at) },
    ],
    [runId],
  );

  return (
    <>
      <div className="section-head">
        <h1 id="section-title" tabIndex={-1}>
          Runs
        </h1>
        <a className="button primary" href="#new">
          Start a run
        </a>
      </div>
      <ErrorNotice error={runs.error} onRetry={runs.reload} />
      {runs.loading && !runs.data ? (
        <Loading what="runs" />
      ) : runs.data && rows.length === 0 ? (
        <div className="empty-state panel">
          <p>
            No runs yet — <a href="#new">start one</a>.
          </p>
          <p className="muted">A reward model trained on the raters' preferences is the usual first run.</p>
        </div>
      ) : (
        <>
          <DataTable
            caption="Training runs, newest first"
            columns={columns}
            rows={rows}
            rowKey={(run) => run.id}
            isSelected={(run) => run.id === runId}
            testId="runs-table"
          />
          {(runs.data?.count ?? 0) > LIMIT && (
            <p className="muted">
              Showing the newest {LIMIT} of {runs.data?.count} runs.
            </p>
          )}
        </>
      )}
      {runId !== null && <RunDetail key={runId} runId={runId} onChange={refresh} />}
    </>
  );
}
