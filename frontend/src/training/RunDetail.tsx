import { useCallback, useEffect, useRef, useState } from "react";
import { LineChart } from "../charts/LineChart";
import { errorMessage } from "../shared/errors";
import { ErrorNotice, Loading, revealOnMount, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import { durationBetween, formatValue, formatWhen, KIND_NAMES, shortHash } from "./format";
import { describeDataset } from "./lineage";
import { chartsFor, lastStep, latestValue, mergeSeries, splitSingleValues } from "./metrics";
import { isActive, usePolling } from "./polling";
import type { MetricSeries, Run } from "./types";
import { LengthPreferencePanel, RoundWatch } from "./WatchPanel";
import { Facts, RunProgress, RunStatusBadge } from "./widgets";

/** One run: progress, live charts, cancel, error and log tail, its data snapshot and config. */
export function RunDetail({ runId, onChange }: { runId: number; onChange: () => void }) {
  const run = useLoad(() => trainingApi.run(runId), runId);
  const { setData } = run;
  const [series, setSeries] = useState<MetricSeries>({});
  const [metricsError, setMetricsError] = useState<unknown>(null);
  const seriesRef = useRef(series);
  useEffect(() => {
    seriesRef.current = series;
  }, [series]);

  const fetchMetrics = useCallback(async () => {
    try {
      const answer = await trainingApi.metrics(runId, lastStep(seriesRef.current));
      setSeries((current) => mergeSeries(current, answer.series));
      setMetricsError(null);
    } catch (error) {
      setMetricsError(error);
    }
  }, [runId]);

  useEffect(() => {
    void fetchMetrics();
  }, [fetchMetrics]);

  const active = run.data ? isActive(run.data.status) : false;
  const tick = useCallback(async () => {
    const fresh = await trainingApi.run(runId);
    setData(() => fresh);
    await fetchMetrics();
    // The list shows the same progress: keep it in step, and catch the end of the run.
    if (!isActive(fresh.status)) onChange();
  }, [runId, setData, fetchMetrics, onChange]);
  usePolling(tick, active);

  if (run.error && !run.data) return <ErrorNotice error={run.error} onRetry={run.reload} />;
  if (!run.data) return <Loading what={`run ${runId}`} />;
  return (
    <RunView
      run={run.data}
      series={series}
      metricsError={metricsError}
      onCancelled={(fresh) => {
        setData(() => fresh);
        onChange();
      }}
    />
  );
}

interface ViewProps {
  run: Run;
  series: MetricSeries;
  metricsError: unknown;
  onCancelled: (run: Run) => void;
}

function RunView({ run, series, metricsError, onCancelled }: ViewProps) {
  const { charts, once } = splitSingleValues(chartsFor(run.kind, Object.keys(series)), series, run.kind, isActive(run.status));
  const policy = run.produced_versions.find((version) => version.kind === "policy");
  const resultEntries = Object.entries(run.result ?? {}).filter(([, value]) => typeof value === "number" || typeof value === "string");
  return (
    <section className="panel run-detail" aria-labelledby="run-title" ref={revealOnMount} data-testid="run-detail">
      <div className="section-head">
        <h2 id="run-title">
          Run #{run.id} · {KIND_NAMES[run.kind]} <RunStatusBadge status={run.status} stopping={run.cancel_requested} />
        </h2>
        {isActive(run.status) && <CancelRun run={run} onCancelled={onCancelled} />}
      </div>
      <RunProgress run={run} label={`Run ${run.id} progress`} wide />

      {run.error && (
        <div className="notice error run-error" role="alert">
          <p className="notice-text">
            <b>The run failed:</b>
          </p>
          <pre className="mono-block">{run.error}</pre>
        </div>
      )}

      {run.watch && <RoundWatch watch={run.watch} />}
      {run.watch && policy && <LengthPreferencePanel versionId={policy.id} />}

      <h3>Curves</h3>
      <ErrorNotice error={metricsError} />
      {charts.length === 0 ? (
        <p className="muted">
          {once.length > 0
            ? "This run reported single values, not curves: they are listed below."
            : `This kind of run reports no curves${run.status === "succeeded" ? "; its results are below" : ""}.`}
        </p>
      ) : (
        <div className="run-charts" data-testid="run-charts">
          {charts.map((chart) => {
            const last = chart.names.map((name) => latestValue(series[name])).find((value) => value !== null);
            return (
              <div key={chart.title} className="run-chart">
                <LineChart
                  title={last === undefined ? chart.title : `${chart.title} (latest ${formatValue(last)})`}
                  description={chart.description}
                  series={chart.names.map((name) => ({ name, points: (series[name] ?? []).map(([x, y]) => ({ x, y })) }))}
                  xType="number"
                  xLabel="Step"
                  yLabel={chart.yLabel}
                  yDomain={chart.isRate ? [0, 1] : undefined}
                  showLegend={chart.names.length > 1}
                  height={200}
                />
              </div>
            );
          })}
        </div>
      )}

      {once.length > 0 && (
        <>
          <h3>Values reported once</h3>
          <Facts
          label="Values reported once"
          items={once.map(({ name, step, value }) => [name, `${formatValue(value)} at step ${step}`])}
          />
        </>
      )}

      <div className="detail-grid">
        <div>
          <h3>Run</h3>
          <Facts
            label="About the run"
            items={[
              ["Base model", run.parent_version ? null : run.base],
              ["Starts from", run.parent_version ? `${run.parent_version.name} (${run.parent_version.kind})` : null],
              ["Reward model", run.reward_version?.name],
              ["Second reward model", run.check_reward_version?.name],
              ["Compared with", run.compare_version?.name],
              ["Campaign", run.campaign?.name],
              ["Scheduled", run.schedule_id ? `by schedule ${run.schedule_id}` : null],
              ["Then starts", run.follow_up.length ? run.follow_up.map((kind) => KIND_NAMES[kind]).join(" → ") : null],
              ["Created", `${formatWhen(run.created_at)}${run.created_by ? ` by ${run.created_by}` : ""}`],
              ["Started", run.started_at ? formatWhen(run.started_at) : null],
              ["Finished", run.finished_at ? `${formatWhen(run.finished_at)} (${durationBetween(run.started_at, run.finished_at) ?? "–"})` : null],
              ["Attempts", `${run.attempts} of ${run.max_attempts}`],
              ["Last checkpoint", run.last_checkpoint ? <code>{run.last_checkpoint}</code> : null],
              [
                "Produced",
                run.produced_versions.length ? (
                  <span>
                    {run.produced_versions.map((v, index) => (
                      <span key={v.id}>
                        {index > 0 && ", "}
                        <a href={`#versions/${v.id}`}>{v.name}</a>
                      </span>
                    ))}
                  </span>
                ) : null,
              ],
            ]}
          />
        </div>
        <div>
          <h3>Data snapshot</h3>
          {run.dataset ? (
            <Facts
              label="The data snapshot"
              items={[
                ["Hash", run.snapshot.hash ? <code title={run.snapshot.hash}>{shortHash(run.snapshot.hash)}</code> : "–"],
                ["Size", `${run.snapshot.size.toLocaleString()} preference${run.snapshot.size === 1 ? "" : "s"}`],
                ["Filters", describeDataset(run.dataset)],
              ]}
            />
          ) : (
            <p className="muted">This kind of run trains on no preferences: it has no data snapshot.</p>
          )}
          {resultEntries.length > 0 && (
            <>
              <h3>Results</h3>
              <Facts label="Results" items={resultEntries.map(([key, value]) => [key, typeof value === "number" ? formatValue(value) : String(value)])} />
            </>
          )}
        </div>
      </div>

      <details className="run-config">
        <summary>Configuration ({Object.keys(run.config).length} settings)</summary>
        <Facts label="Configuration" items={Object.entries(run.config).map(([key, value]) => [key, <code key={key}>{JSON.stringify(value)}</code>])} />
      </details>

      <h3 id="log-title">Log tail</h3>
      {run.log_tail ? (
        <LogTail text={run.log_tail} />
      ) : (
        <p className="muted">{run.status === "queued" ? "No log yet: the run has not started." : "The run wrote no log."}</p>
      )}
    </section>
  );
}

/** The last lines the run printed; kept scrolled to the end while it grows, unless the reader
 * scrolled up to read. */
function LogTail({ text }: { text: string }) {
  const box = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const element = box.current;
    if (element && pinned.current) element.scrollTop = element.scrollHeight;
  }, [text]);
  return (
    <pre
      ref={box}
      className="mono-block log-tail"
      tabIndex={0}
      aria-labelledby="log-title"
      data-testid="log-tail"
      onScroll={(event) => {
        const element = event.currentTarget;
        pinned.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
      }}
    >
      {text}
    </pre>
  );
}

function CancelRun({ run, onCancelled }: { run: Run; onCancelled: (run: Run) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  if (run.cancel_requested) return <span className="muted">Stopping at the next step…</span>;

  async function cancel() {
    setBusy(true);
    setFailure(null);
    try {
      onCancelled(await trainingApi.cancelRun(run.id));
      setConfirming(false);
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="confirm" role="group" aria-label="Cancel the run">
      {confirming ? (
        <>
          <span>{run.status === "queued" ? "Cancel this run before it starts?" : "Stop this run? Its progress is lost."}</span>
          <button type="button" className="button danger" onClick={cancel} disabled={busy} autoFocus>
            {busy ? "Cancelling…" : "Yes, cancel the run"}
          </button>
          <button type="button" className="button" onClick={() => setConfirming(false)} disabled={busy}>
            Keep it
          </button>
        </>
      ) : (
        <button type="button" className="button danger" onClick={() => setConfirming(true)}>
          Cancel run…
        </button>
      )}
      {failure && (
        <p className="field-error" role="alert">
          {failure}
        </p>
      )}
    </div>
  );
}
