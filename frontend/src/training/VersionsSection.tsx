import { useMemo, useState } from "react";
import { Badge } from "../shared/Badge";
import { DataTable } from "../shared/DataTable";
import type { Column } from "../shared/table";
import { ErrorNotice, Loading, revealOnMount, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import { CompareView } from "./CompareView";
import { formatValue, formatWhen, KIND_NAMES, shortHash } from "./format";
import { describeDataset, lineageLine, lineageOf } from "./lineage";
import type { Version, VersionDetail as VersionDetailType } from "./types";
import { LengthPreferencePanel, WatchWarnings } from "./WatchPanel";
import { comparisonsText, readPromotion, winProbabilityText } from "./promotion";
import { Facts, PromotionBadge } from "./widgets";

interface Props {
  versionId: number | null;
  compare: [number, number] | null;
  navigate: (hash: string) => void;
}

/** The model registry: every version with where it came from, one version's full lineage, and
 * two versions side by side. */
export function VersionsSection({ versionId, compare, navigate }: Props) {
  const versions = useLoad(() => trainingApi.versions());
  const all = useMemo(() => versions.data ?? [], [versions.data]);
  const [a, setA] = useState(compare ? String(compare[0]) : "");
  const [b, setB] = useState(compare ? String(compare[1]) : "");

  const columns = useMemo<Column<Version>[]>(
    () => [
      {
        key: "name",
        header: "Version",
        value: (v) => v.name,
        render: (v) => (
          <a href={`#versions/${v.id}`} className="cell-strong" aria-current={v.id === versionId ? "true" : undefined}>
            {v.name}
          </a>
        ),
      },
      { key: "kind", header: "Kind", value: (v) => v.kind },
      {
        key: "promotion",
        header: "Promotion",
        value: (v) => v.promotion,
        render: (v) => (v.promotion ? <PromotionBadge promotion={v.promotion} /> : <span className="muted">no gate</span>),
      },
      {
        key: "lineage",
        header: "Lineage",
        sortable: false,
        value: (v) => v.name,
        render: (v) => {
          const { chain, truncated } = lineageOf(v, all);
          return <span className="lineage-line">{lineageLine(chain, truncated)}</span>;
        },
      },
      {
        key: "run",
        header: "Produced by",
        value: (v) => v.produced_by?.id ?? null,
        render: (v) => (v.produced_by ? <a href={`#runs/${v.produced_by.id}`}>Run #{v.produced_by.id} ({KIND_NAMES[v.produced_by.kind]})</a> : <span className="muted">imported</span>),
      },
      {
        key: "snapshot",
        header: "Data snapshot",
        sortable: false,
        value: (v) => v.snapshot.hash,
        render: (v) =>
          v.snapshot.hash ? (
            <span>
              <code title={v.snapshot.hash}>{shortHash(v.snapshot.hash)}</code> · {v.snapshot.size.toLocaleString()} prefs
            </span>
          ) : (
            <span className="muted">none</span>
          ),
      },
      { key: "created", header: "Created", value: (v) => v.created_at, render: (v) => formatWhen(v.created_at) },
    ],
    [all, versionId],
  );

  const picked = a && b && a !== b ? ([Number(a), Number(b)] as [number, number]) : null;
  return (
    <>
      <div className="section-head">
        <h1 id="section-title" tabIndex={-1}>
          Model versions
        </h1>
      </div>
      <ErrorNotice error={versions.error} onRetry={versions.reload} />
      {versions.loading && !versions.data ? (
        <Loading what="model versions" />
      ) : (
        <DataTable
          caption="Model versions, newest first"
          columns={columns}
          rows={all}
          rowKey={(v) => v.id}
          isSelected={(v) => v.id === versionId}
          empty={
            <>
              No model versions yet — <a href="#new">start a run</a>: each finished run registers the model it trained.
            </>
          }
          testId="versions-table"
        />
      )}
      {versionId !== null && <VersionDetail key={versionId} versionId={versionId} />}

      <section className="panel" aria-labelledby="compare-title">
        <h2 id="compare-title">Compare two versions</h2>
        <form
          className="compare-pick"
          onSubmit={(event) => {
            event.preventDefault();
            if (picked) navigate(`#versions/compare/${picked[0]}/${picked[1]}`);
          }}
        >
          {(["a", "b"] as const).map((side) => (
            <div className="field" key={side}>
              <label htmlFor={`compare-${side}`}>Version {side.toUpperCase()}</label>
              <select id={`compare-${side}`} className="input" value={side === "a" ? a : b} onChange={(e) => (side === "a" ? setA : setB)(e.target.value)}>
                <option value="">Choose…</option>
                {all.map((v) => (
                  <option key={v.id} value={v.id}>
                    {v.name} ({v.kind})
                  </option>
                ))}
              </select>
            </div>
          ))}
          <button type="submit" className="button primary" disabled={!picked}>
            Compare
          </button>
        </form>
        {a && a === b && <p className="field-hint">Choose two different versions.</p>}
        {compare && <CompareView key={compare.join("-")} a={compare[0]} b={compare[1]} versions={all} />}
      </section>
    </>
  );
}

function VersionDetail({ versionId }: { versionId: number }) {
  const detail = useLoad(() => trainingApi.version(versionId), versionId);
  if (detail.error) return <ErrorNotice error={detail.error} onRetry={detail.reload} />;
  if (!detail.data) return <Loading what="the version" />;
  const v = detail.data;
  const metrics = Object.entries(v.metrics ?? {}).filter(([, value]) => typeof value === "number" || typeof value === "string");
  return (
    <section className="panel" aria-labelledby="version-title" ref={revealOnMount} data-testid="version-detail">
      <h2 id="version-title">
        {v.name} <Badge>{v.kind}</Badge>
      </h2>
      <WatchWarnings warnings={v.watch_warnings} />
      <Facts
        label="About the version"
        items={[
          ["Base", v.base],
          ["Weights", <code key="path">{v.artifact_path}</code>],
          ["Campaign", v.campaign?.name],
          ["Created", formatWhen(v.created_at)],
          ...metrics.map(([key, value]): [string, string] => [key, typeof value === "number" ? formatValue(value) : String(value)]),
        ]}
      />
      <PromotionGate version={v} />
      {v.kind === "policy" && <LengthPreferencePanel versionId={v.id} />}
      <h3>Lineage</h3>
      <ol className="lineage" aria-label={`Lineage of ${v.name}, newest first`}>
        {v.lineage.map((step) => (
          <li key={step.id}>
            <b>{step.name}</b> <span className="muted">({step.kind})</span>
            <div className="muted">
              {step.produced_by_run_id ? <a href={`#runs/${step.produced_by_run_id}`}>Run #{step.produced_by_run_id}</a> : "Not trained here"}
              {step.snapshot_hash && (
                <>
                  {" · data "}
                  <code title={step.snapshot_hash}>{shortHash(step.snapshot_hash)}</code>
                </>
              )}
            </div>
            {step.dataset && <div className="field-hint">{describeDataset(step.dataset)}</div>}
          </li>
        ))}
        <li className="muted">{v.base} (base model)</li>
      </ol>
    </section>
  );
}

/** The arena gate's figures for a new policy: how far the comparisons got and what it decided. */
function PromotionGate({ version }: { version: VersionDetailType }) {
  const detail = readPromotion(version.promotion_detail);
  if (!version.promotion || !detail) return null;
  const decided = detail.decided_at ? formatWhen(detail.decided_at) : null;
  return (
    <div className="promotion-gate" data-testid="promotion-gate">
      <h3>
        Promotion gate <PromotionBadge promotion={version.promotion} />
      </h3>
      <Facts
        label="The promotion gate's figures"
        items={[
          ["Arena", detail.arena_campaign || (detail.arena_campaign_id !== null ? `Campaign ${detail.arena_campaign_id}` : null)],
          [
            "Against",
            detail.rival_version_id !== null ? <a href={`#versions/${detail.rival_version_id}`}>{detail.rival || `Version ${detail.rival_version_id}`}</a> : detail.rival,
          ],
          ["Comparisons", comparisonsText(detail)],
          ["Wins", detail.comparisons > 0 ? `${detail.wins} of ${detail.comparisons}` : null],
          ["Chance it beats its rival", winProbabilityText(detail) ?? "not known yet"],
          ["Decided", decided ?? (version.promotion === "pending" ? "not yet" : null)],
          ["Why", detail.reason],
          ["Arena answers", detail.arena_run_id !== null ? <a href={`#runs/${detail.arena_run_id}`}>Run #{detail.arena_run_id}</a> : null],
        ]}
      />
    </div>
  );
}
