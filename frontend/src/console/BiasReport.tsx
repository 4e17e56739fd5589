import { useMemo, useState } from "react";
import { IntervalChart } from "../charts/IntervalChart";
import { consoleApi } from "./api";
import { DataTable } from "../shared/DataTable";
import { JudgeScores } from "./JudgeScores";
import { PauseDialog, type PauseTarget } from "./PauseDialog";
import {
  campaignFigures,
  comparisonP,
  flaggedRows,
  flagReasons,
  formatCoefficient,
  formatP,
  formatShare,
  pauseReason,
  shareWithCi,
  testCharts,
  testItems,
} from "./quality";
import type { Comparison, GroupFigures, QualityReport, RaterRow, ReportSettings } from "./qualityTypes";
import type { Column } from "../shared/table";
import { Done, ErrorNotice } from "../shared/ui";
import { StatusBadge } from "./StatusBadge";

/** Bias at campaign level, per rater (charts), the flagged raters with pause buttons, and
 * pools and self-reported groups compared. */
export function BiasReport({ report, campaignName }: { report: QualityReport; campaignName: string }) {
  return (
    <section className="panel bias-report" aria-labelledby="bias-title">
      <h2 id="bias-title">Bias report</h2>
      <HowToRead settings={report.settings} />
      <CampaignBias report={report} />
      <JudgeScores report={report} />
      <FlaggedRaters report={report} campaignName={campaignName} />
      <RaterCharts report={report} />
      <GroupComparison title="Pools" noun="pool" comparison={report.pools} settings={report.settings} />
      {Object.entries(report.demographics).map(([key, comparison]) => (
        <GroupComparison
          key={key}
          title={`Self-reported ${key.replace(/_/g, " ")}`}
          noun="group"
          comparison={comparison}
          settings={report.settings}
        />
      ))}
    </section>
  );
}

function HowToRead({ settings }: { settings: ReportSettings }) {
  const level = formatShare(settings.test_level);
  return (
    <details className="how-to-read">
      <summary>How to read this</summary>
      <dl>
        <div>
          <dt>Tests</dt>
          <dd>
            Each test runs once per rater with at least {settings.min_judgments} judgments. A rater is flagged when the test's
            p-value, after Holm's correction across raters, is below {settings.test_level}: each test wrongly flags anyone at
            most {level} of the time.
          </dd>
        </div>
        <div>
          <dt>Intervals</dt>
          <dd>
            95% intervals: Wilson's for shares, and for agreement a bootstrap of {settings.n_boot} resamples (seed{" "}
            {settings.seed}).
          </dd>
        </div>
        <div>
          <dt>Position bias</dt>
          <dd>How often the response shown first wins; with the order randomised, a fair rater is near 50%.</dd>
        </div>
        <div>
          <dt>Length bias</dt>
          <dd>
            A logistic fit of the rater's choice on which response is longer, allowing for what the other raters chose on the same
            pair; flagged when the rater's slope differs from the median rater's (
            {formatCoefficient(settings.length_slope_reference)}).
          </dd>
        </div>
        <div>
          <dt>Too fast</dt>
          <dd>
            Judgments faster than {settings.reading_floor_ms_per_char} ms per character shown; flagged when clearly more than{" "}
            {formatShare(settings.fast_share_allowed)} of a rater's are.
          </dd>
        </div>
        <div>
          <dt>Straight-lining</dt>
          <dd>
            Answering by position: pairwise, the same side more than {formatShare(settings.straight_line_share)} of the time;
            rankings, the order shown (or its reverse) more often than chance.
          </dd>
        </div>
        <div>
          <dt>Outlier vs others</dt>
          <dd>
            Agreement with the other raters' majority more than {Math.round(settings.outlier_margin * 100)} points below the median
            rater's ({formatShare(settings.loo_reference)}).
          </dd>
        </div>
        <div>
          <dt>Gold</dt>
          <dd>
            {settings.gold_threshold == null
              ? "The campaign has no gold threshold, so nobody is flagged for gold accuracy."
              : `Gold accuracy below ${formatShare(settings.gold_threshold)} after at least ${settings.gold_min_items} gold tasks (the campaign's pause rule).`}
          </dd>
        </div>
        <div>
          <dt>Pools and groups</dt>
          <dd>
            Chi-square tests of equal rates across pools or groups; those of fewer than {settings.min_group_raters} raters are
            left out.
          </dd>
        </div>
      </dl>
    </details>
  );
}

function CampaignBias({ report }: { report: QualityReport }) {
  const figures = campaignFigures(report);
  if (!figures) {
    return <p className="muted">No judgments yet, so no bias figures.</p>;
  }
  const { position_bias: position, length_bias: length, fast_share: fast } = figures;
  return (
    <div className="bias-figures" data-testid="campaign-bias">
      <h3>Whole campaign</h3>
      <dl className="figures">
        <div>
          <dt>Position bias</dt>
          <dd>
            <b>{shareWithCi(position)}</b> chose the response shown first, of {position.n.toLocaleString("en")} judgments;{" "}
            p = {formatP(position.p_value)} against 50%.
          </dd>
        </div>
        <div>
          <dt>Length bias</dt>
          <dd>
            <b>{shareWithCi(length)}</b> chose the longer response, of {length.n.toLocaleString("en")} pairs; logistic slope{" "}
            {formatCoefficient(length.slope ?? null)}
            {length.slope_se != null ? ` (SE ${formatCoefficient(length.slope_se)})` : ""}, where above 0 favours longer
            answers beyond what the other raters chose.
          </dd>
        </div>
        <div>
          <dt>Too fast</dt>
          <dd>
            <b>{shareWithCi(fast)}</b> of {fast.n.toLocaleString("en")} judgments were faster than{" "}
            {report.settings.reading_floor_ms_per_char} ms per character shown.
          </dd>
        </div>
      </dl>
    </div>
  );
}

function FlaggedRaters({ report, campaignName }: { report: QualityReport; campaignName: string }) {
  const rows = flaggedRows(report);
  // Pauses and resumes made here, until the report is fetched again.
  const [statuses, setStatuses] = useState<Record<number, string>>({});
  const [pausing, setPausing] = useState<RaterRow | null>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  async function change(id: number, work: () => Promise<{ username: string; status: string }>, message: (name: string) => string) {
    setBusyId(id);
    setError(null);
    setDone(null);
    try {
      const rater = await work();
      setStatuses((current) => ({ ...current, [id]: rater.status }));
      setDone(message(rater.username));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusyId(null);
    }
  }

  const pauseTarget: PauseTarget | null = pausing && { id: pausing.rater_id, username: pausing.username };
  return (
    <div className="flagged" data-testid="flagged-raters">
      <h3 id="flagged-title">Flagged raters</h3>
      <Done text={done} />
      <ErrorNotice error={error} />
      {rows.length === 0 ? (
        <p className="muted">Nobody is flagged.</p>
      ) : (
        <ul className="flagged-list" aria-labelledby="flagged-title">
          {rows.map((row) => {
            const status = statuses[row.rater_id] ?? row.status;
            return (
              <li key={row.rater_id} className="flagged-item" data-rater={row.username}>
                <div className="flagged-head">
                  <h4>{row.username}</h4>
                  <StatusBadge status={status} />
                  <span className="muted">{row.judgments} judgments</span>
                  <span className="spacer" />
                  {status === "paused" ? (
                    <button
                      type="button"
                      className="button small"
                      disabled={busyId === row.rater_id}
                      onClick={() => change(row.rater_id, () => consoleApi.resumeRater(row.rater_id), (name) => `${name} can rate again.`)}
                    >
                      Resume<span className="visually-hidden"> {row.username}</span>
                    </button>
                  ) : (
                    <button type="button" className="button small danger" disabled={busyId === row.rater_id} onClick={() => setPausing(row)}>
                      Pause…<span className="visually-hidden"> {row.username}</span>
                    </button>
                  )}
                </div>
                <ul className="flag-reasons">
                  {flagReasons(row, report.settings).map((reason) => (
                    <li key={reason.flag}>
                      <b className="flag-name">{reason.name[0].toUpperCase() + reason.name.slice(1)}:</b> {reason.detail}
                      {reason.p && <span className="flag-p"> {reason.p}.</span>}
                    </li>
                  ))}
                </ul>
              </li>
            );
          })}
        </ul>
      )}
      <PauseDialog
        key={pausing?.rater_id ?? "closed"}
        rater={pauseTarget}
        initialReason={pausing ? pauseReason(pausing, campaignName) : ""}
        onClose={() => setPausing(null)}
        onPause={(rater, reason) => {
          setPausing(null);
          change(rater.id, () => consoleApi.pauseRater(rater.id, reason), (name) => `${name} is paused: their open tasks were released.`);
        }}
      />
    </div>
  );
}

function RaterCharts({ report }: { report: QualityReport }) {
  const charts = useMemo(() => testCharts(report.settings), [report.settings]);
  const untested = report.rater_rows.filter((row) => !row.tested).map((row) => row.username);
  return (
    <div className="rater-charts">
      <h3>Per rater</h3>
      <p className="field-hint">
        Each row is a rater with a 95% interval; flagged raters are marked ⚑ and drawn in red.
        {untested.length > 0 &&
          ` Not tested (fewer than ${report.settings.min_judgments} judgments): ${untested.join(", ")}.`}
      </p>
      <div className="chart-pair">
        {charts.map((chart) => (
          <IntervalChart
            key={chart.test}
            title={chart.title}
            description={chart.description}
            items={testItems(report.rater_rows, chart.test)}
            domain={[0, 1]}
            reference={chart.reference ?? undefined}
            referenceLabel={chart.referenceLabel}
            xLabel={chart.xLabel}
            formatValue={(value) => formatShare(value)}
            labelWidth={120}
          />
        ))}
      </div>
    </div>
  );
}

interface ComparisonProps {
  title: string;
  noun: string;
  comparison: Comparison;
  settings: ReportSettings;
}

const GROUP_COLUMNS: Column<GroupFigures>[] = [
  { key: "name", header: "Name", value: (g) => g.name, render: (g) => <span className="cell-strong">{g.name}</span> },
  { key: "raters", header: "Raters", value: (g) => g.raters, numeric: true },
  { key: "judgments", header: "Judgments", value: (g) => g.judgments, numeric: true },
  { key: "loo", header: "Agreement", value: (g) => g.loo_agreement.value, render: (g) => shareWithCi(g.loo_agreement), numeric: true },
  { key: "position", header: "Chose first shown", value: (g) => g.position_bias.value, render: (g) => shareWithCi(g.position_bias), numeric: true },
  { key: "length", header: "Chose longer", value: (g) => g.length_bias.value, render: (g) => shareWithCi(g.length_bias), numeric: true },
  { key: "fast", header: "Too fast", value: (g) => g.fast_share.value, render: (g) => shareWithCi(g.fast_share), numeric: true },
  { key: "flagged", header: "Flagged", value: (g) => g.flagged_raters, numeric: true },
];

function GroupComparison({ title, noun, comparison, settings }: ComparisonProps) {
  return (
    <div className="group-comparison">
      <h3>{title}</h3>
      <DataTable
        caption={`${title} compared`}
        columns={GROUP_COLUMNS}
        rows={comparison.groups}
        rowKey={(g) => g.name}
        empty={`No ${noun} has ${settings.min_group_raters} raters or more.`}
      />
      <p className="field-hint">
        Chi-square across {noun}s: agreement {comparisonP(comparison.loo_agreement_p_value)}; position bias{" "}
        {comparisonP(comparison.position_bias_p_value)}.
        {comparison.left_out.length > 0 &&
          ` Left out for having fewer than ${settings.min_group_raters} raters: ${comparison.left_out.join(", ")}.`}
      </p>
    </div>
  );
}
