import { useState } from "react";
import { LineChart } from "../charts/LineChart";
import { consoleApi, type Campaign } from "./api";
import { ArenaPanel } from "./ArenaPanel";
import { BiasReport } from "./BiasReport";
import { CampaignSectionHead, useCampaignChoice } from "./CampaignPicker";
import { saveFile } from "./download";
import { ceilingSentence, consensusSentence, headlineCards, overTimeDomain, overTimeSeries, overTimeUnit } from "./quality";
import type { QualityReport } from "./qualityTypes";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";

/** Agreement, consensus and the bias report of one campaign. */
export function QualitySection() {
  const campaigns = useLoad(consoleApi.campaigns);
  const [campaign, choose] = useCampaignChoice(campaigns.data);
  return (
    <>
      <CampaignSectionHead title="Quality" pickerId="quality-campaign" campaigns={campaigns} value={campaign} onChange={choose} />
      {campaigns.data?.length === 0 && <p className="muted">No campaigns yet.</p>}
      {campaign?.is_arena && <ArenaPanel key={`arena-${campaign.id}`} campaign={campaign} />}
      {campaign && <CampaignQuality key={campaign.id} campaign={campaign} />}
    </>
  );
}

function CampaignQuality({ campaign }: { campaign: Campaign }) {
  const report = useLoad(() => consoleApi.qualityReport(campaign.id));
  if (report.error) return <ErrorNotice error={report.error} onRetry={report.reload} />;
  if (!report.data) return <Loading what="the quality report" />;
  return <ReportView report={report.data} campaign={campaign} reloading={report.loading} onReload={report.reload} />;
}

interface ViewProps {
  report: QualityReport;
  campaign: Campaign;
  reloading: boolean;
  onReload: () => void;
}

function ReportView({ report, campaign, reloading, onReload }: ViewProps) {
  const generated = new Date(report.generated_at).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
  return (
    <div className="quality-report" data-testid="quality-report">
      <div className="report-bar">
        <p className="muted">
          {report.judgments.toLocaleString("en")} judgments by {report.raters} raters; figures of {generated}.
        </p>
        <div className="section-tools">
          <button type="button" className="button small" onClick={onReload} disabled={reloading}>
            {reloading ? "Refreshing…" : "Refresh"}
          </button>
          <Downloads report={report} campaign={campaign} />
        </div>
      </div>
      <AgreementPanel report={report} pairwise={campaign.judgment_mode === "pairwise" || campaign.responses_per_task === 2} />
      <BiasReport report={report} campaignName={campaign.name} />
    </div>
  );
}

function Downloads({ report, campaign }: { report: QualityReport; campaign: Campaign }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const base = `quality-campaign-${campaign.id}`;
  async function csv() {
    setBusy(true);
    setError(null);
    try {
      saveFile(`${base}.csv`, await consoleApi.qualityCsv(campaign.id), "text/csv");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button
        type="button"
        className="button small"
        onClick={() => saveFile(`${base}.json`, JSON.stringify(report, null, 2), "application/json")}
      >
        Download JSON
      </button>
      <button type="button" className="button small" onClick={csv} disabled={busy}>
        {busy ? "Preparing CSV…" : "Download CSV"}
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </>
  );
}

function AgreementPanel({ report, pairwise }: { report: QualityReport; pairwise: boolean }) {
  const cards = headlineCards(report.agreement, pairwise);
  const series = overTimeSeries(report);
  return (
    <>
      <section className="panel" aria-labelledby="agreement-title">
        <h2 id="agreement-title">Agreement</h2>
        <ul className="metric-cards" data-testid="agreement-cards">
          {cards.map((card) => (
            <li key={card.key} className={`metric-card${card.missing ? " is-missing" : ""}`}>
              <h3 className="metric-title">{card.title}</h3>
              <p className="metric-value">{card.value}</p>
              <p className="metric-ci">
                {card.interval ? `95% CI ${card.interval}` : card.missing ? "" : "no interval"}
                {card.interval || !card.missing ? " · " : ""}n = {card.n}
              </p>
              <p className="metric-help">{card.explanation}</p>
            </li>
          ))}
        </ul>
        <p className="ceiling-note" data-testid="ceiling-note">
          {ceilingSentence(report.agreement)}
        </p>
      </section>
      <div className="detail-grid">
        <section className="panel" aria-labelledby="over-time-title">
          <h2 id="over-time-title">Agreement over time</h2>
          <LineChart
            title={`Agreement per ${overTimeUnit(report)}`}
            description={`Percent agreement per ${overTimeUnit(report)} with its 95% interval as a band, and Krippendorff's alpha as a dashed line.`}
            series={series}
            yDomain={overTimeDomain(series)}
            yLabel="Agreement"
            height={220}
            showLegend
          />
        </section>
        <section className="panel" aria-labelledby="consensus-title">
          <h2 id="consensus-title">Consensus</h2>
          <p>{consensusSentence(report)}</p>
          <dl className="figures">
            <div>
              <dt>Tasks</dt>
              <dd>{report.consensus.tasks.toLocaleString("en")}</dd>
            </div>
            <div>
              <dt>Clear best response</dt>
              <dd>
                {report.consensus.clear_top_share == null
                  ? "not enough data"
                  : `${Math.round(report.consensus.clear_top_share * 100)}% of tasks`}
              </dd>
            </div>
            <div>
              <dt>Judgments, pairs</dt>
              <dd>
                {report.judgments.toLocaleString("en")}, {report.pairs.toLocaleString("en")}
              </dd>
            </div>
          </dl>
        </section>
      </div>
    </>
  );
}
