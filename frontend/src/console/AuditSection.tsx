import { useMemo, useState } from "react";
import { formatDateTime } from "../charts/scale";
import { consoleApi } from "./api";
import { describeActor, describeDetails, describeTarget, pageWindow, type NamedAuditEvent } from "./audit";
import { DataTable } from "../shared/DataTable";
import type { Column } from "../shared/table";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";

const PAGE_SIZE = 25;

const COLUMNS: Column<NamedAuditEvent>[] = [
  {
    key: "time",
    header: "Time",
    value: (e) => e.created_at ?? "",
    render: (e) => (e.created_at ? <time dateTime={e.created_at}>{formatDateTime(Date.parse(e.created_at))}</time> : "–"),
  },
  { key: "actor", header: "Actor", value: (e) => describeActor(e), render: (e) => describeActor(e) ?? <span className="muted">system</span> },
  { key: "action", header: "Action", value: (e) => e.action, render: (e) => <code>{e.action}</code> },
  { key: "target", header: "Target", value: (e) => describeTarget(e) },
  {
    key: "details",
    header: "Details",
    sortable: false,
    value: (e) => describeDetails(e.details),
    render: (e) => <span className="details-cell">{describeDetails(e.details) || <span className="muted">–</span>}</span>,
  },
];

export function AuditSection() {
  const [offset, setOffset] = useState(0);
  const page = useLoad(() => consoleApi.auditEvents(offset, PAGE_SIZE), offset);
  const { reload } = page;
  const rows = page.data?.results ?? [];
  const span = useMemo(() => pageWindow(offset, rows.length, page.data?.count ?? 0), [offset, rows.length, page.data?.count]);

  const pager = (
    <nav className="pager" aria-label="Audit log pages">
      <button type="button" className="button small" disabled={!span.hasPrevious || page.loading} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
        ← Newer
      </button>
      <span aria-live="polite">{page.data ? span.text : ""}</span>
      <button type="button" className="button small" disabled={!span.hasNext || page.loading} onClick={() => setOffset(offset + PAGE_SIZE)}>
        Older →
      </button>
    </nav>
  );

  return (
    <>
      <div className="section-head">
        <h1 id="section-title" tabIndex={-1}>Audit log</h1>
        <div className="section-tools">
          <button
            type="button"
            className="button"
            onClick={() => {
              if (offset === 0) reload();
              else setOffset(0);
            }}
          >
            Latest
          </button>
        </div>
      </div>
      <p className="field-hint">Every admin action, newest first.</p>
      {page.error ? <ErrorNotice error={page.error} onRetry={reload} /> : null}
      {page.loading && !page.data ? (
        <Loading what="the audit log" />
      ) : (
        page.data && (
          <>
            <DataTable caption="Audit events" testId="audit-table" columns={COLUMNS} rows={rows} rowKey={(e) => e.id} empty="No events yet." />
            {pager}
          </>
        )
      )}
    </>
  );
}
