import { DataTable } from "../shared/DataTable";
import type { Column } from "../shared/table";
import { campaignFigures, formatInterval, formatShare, shareWithCi } from "./quality";
import type { Estimate, JudgeRow, QualityReport } from "./qualityTypes";

function share(estimate: Estimate) {
  return `${shareWithCi(estimate)} of ${estimate.n.toLocaleString("en")}`;
}

function estimateColumn(key: keyof JudgeRow & string, header: string, pick: (row: JudgeRow) => Estimate): Column<JudgeRow> {
  return { key, header, numeric: true, value: (row) => pick(row).value, render: (row) => share(pick(row)) };
}

const COLUMNS: Column<JudgeRow>[] = [
  { key: "judge", header: "Judge", value: (row) => row.judge },
  { key: "verdicts", header: "Pairs judged", numeric: true, value: (row) => row.verdicts },
  estimateColumn("order_consistency", "Same verdict in both orders", (row) => row.order_consistency),
  estimateColumn("consensus_agreement", "Agrees with raters (consistent verdicts)", (row) => row.consensus_agreement),
  estimateColumn("debiased_agreement", "Agrees with raters (all, orders averaged)", (row) => row.debiased_agreement),
  estimateColumn("position_bias", "Picked the answer shown first", (row) => row.position_bias),
  estimateColumn("length_bias", "Chose the longer answer", (row) => row.length_bias),
];

/** LLM judges beside the raters: how far to trust a judge's pre-labels. */
export function JudgeScores({ report }: { report: QualityReport }) {
  if (report.judges.length === 0) return null;
  const raters = campaignFigures(report);
  const consensus = report.agreement.consensus_agreement;
  return (
    <div className="judge-scores" data-testid="judge-scores">
      <h3>LLM judges</h3>
      <p className="field-hint">
        Each pair was put to the judge twice, the answers swapped. Only verdicts the same both ways become pre-labels. The
        raters, for comparison: each agrees with the others&apos; majority {formatShare(consensus.value)} of the time (
        {formatInterval(consensus, formatShare) || "no interval"}), and they chose the answer shown first{" "}
        {formatShare(raters?.position_bias.value ?? null)} of the time.
      </p>
      <DataTable
        caption="LLM judges scored against the raters' majority"
        columns={COLUMNS}
        rows={report.judges}
        rowKey={(row) => row.judge}
        empty="No judge has judged this campaign."
      />
    </div>
  );
}
