import { useMemo, useState } from "react";
import { errorMessage } from "../shared/errors";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import { comparisonRows, newestRewardVersion, sampleRewardMeans } from "./compare";
import { formatValue } from "./format";
import { newIdempotencyKey } from "./runForm";
import type { Run, Version } from "./types";
import { RunStatusBadge } from "./widgets";

/** Two versions side by side: their metrics, and their answers to the same prompts. */
export function CompareView({ a, b, versions }: { a: number; b: number; versions: Version[] }) {
  const comparison = useLoad(() => trainingApi.compare(a, b), `${a}-${b}`);
  const rows = useMemo(() => comparisonRows(comparison.data?.metrics ?? []), [comparison.data]);
  if (comparison.error) return <ErrorNotice error={comparison.error} onRetry={comparison.reload} />;
  if (!comparison.data) return <Loading what="the comparison" />;
  const { a: left, b: right, samples, evaluation_run: evaluation } = comparison.data;
  const means = sampleRewardMeans(samples);
  return (
    <div className="compare" data-testid="comparison">
      <h3>Metrics</h3>
      {rows.length === 0 ? (
        <p className="muted">Neither version has metrics recorded.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compare-table">
            <caption className="visually-hidden">
              Metrics of {left.name} (A) and {right.name} (B)
            </caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" className="numeric">
                  A: {left.name}
                </th>
                <th scope="col" className="numeric">
                  B: {right.name}
                </th>
                <th scope="col" className="numeric">
                  B − A
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.name}>
                  <th scope="row">{row.name}</th>
                  <td className={`numeric${row.better === "a" ? " is-better" : ""}`} data-label={`A: ${left.name}`}>
                    {formatValue(row.a)}
                    {row.better === "a" && <span className="visually-hidden"> (better)</span>}
                  </td>
                  <td className={`numeric${row.better === "b" ? " is-better" : ""}`} data-label={`B: ${right.name}`}>
                    {formatValue(row.b)}
                    {row.better === "b" && <span className="visually-hidden"> (better)</span>}
                  </td>
                  <td className="numeric" data-label="B − A">
                    {row.delta === null ? "–" : `${row.delta > 0 ? "+" : ""}${formatValue(row.delta)}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Sample outputs</h3>
      {samples.length === 0 ? (
        <NoSamples a={left} b={right} versions={versions} evaluation={evaluation} />
      ) : (
        <>
          <p className="muted">
            {samples.length} prompts{evaluation ? `, from evaluation run #${evaluation.id}` : ""}. Mean reward: A {formatValue(means.a)}, B{" "}
            {formatValue(means.b)}.
          </p>
          <ol className="samples">
            {samples.map((sample, index) => (
              <li key={index} className="sample">
                <p className="sample-prompt">
                  <b>Prompt:</b> {sample.prompt}
                </p>
                <div className="sample-pair">
                  {(["a", "b"] as const).map((side) => (
                    <div key={side} className="sample-answer">
                      <div className="sample-head">
                        <b>
                          {side.toUpperCase()}: {side === "a" ? left.name : right.name}
                        </b>
                        <span className="muted">reward {formatValue(side === "a" ? sample.reward_a : sample.reward_b)}</span>
                      </div>
                      {/* Model output is untrusted: plain text only. */}
                      <p className="sample-text">{side === "a" ? sample.a : sample.b}</p>
                    </div>
                  ))}
                </div>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

function NoSamples({ a, b, versions, evaluation }: { a: Version; b: Version; versions: Version[]; evaluation: Run | null }) {
  const [started, setStarted] = useState<Run | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(newIdempotencyKey);
  const reward = newestRewardVersion(versions);
  const run = started ?? evaluation;

  async function start() {
    if (!reward) return;
    setBusy(true);
    setFailure(null);
    try {
      setStarted(
        await trainingApi.createRun({ kind: "evaluate", parent_version_id: a.id, compare_version_id: b.id, reward_version_id: reward.id, idempotency_key: key }),
      );
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="empty-state">
      <p>No sample outputs for these two versions yet: an evaluation run answers the same prompts with both and scores them.</p>
      {run ? (
        <p role="status">
          <a href={`#runs/${run.id}`}>Evaluation run #{run.id}</a> <RunStatusBadge status={run.status} />
        </p>
      ) : reward ? (
        <button type="button" className="button primary" onClick={start} disabled={busy}>
          {busy ? "Starting…" : `Start an evaluation (scored by ${reward.name})`}
        </button>
      ) : (
        <p className="muted">An evaluation needs a reward model to score the answers: train one first.</p>
      )}
      {failure !== null && (
        <p className="field-error" role="alert">
          {errorMessage(failure)}
        </p>
      )}
    </div>
  );
}
