import { useMemo } from "react";
import { LineChart } from "../charts/LineChart";
import { consoleApi } from "./api";
import { countPerDay } from "./campaignStats";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";

const WINDOW = 1000;

/** Judgments per day, from the campaign's latest judgments (the API has no daily totals). */
export function JudgmentTrend({ campaignId }: { campaignId: number }) {
  const judgments = useLoad(() => consoleApi.recentJudgments(campaignId, WINDOW));
  const { reload } = judgments;
  const days = useMemo(
    () => countPerDay((judgments.data?.results ?? []).map((j) => j.submitted_at ?? "")),
    [judgments.data],
  );
  const partial = (judgments.data?.count ?? 0) > WINDOW;
  return (
    <div className="trend">
      {judgments.error ? (
        <ErrorNotice error={judgments.error} onRetry={reload} />
      ) : judgments.loading && !judgments.data ? (
        <Loading what="judgments" />
      ) : (
        <LineChart
          title={partial ? `Judgments per day (latest ${WINDOW})` : "Judgments per day"}
          description="How many judgments were submitted each day, imported ones included."
          series={[{ name: "Judgments", points: days.map((d) => ({ x: d.day, y: d.count })) }]}
          yLabel="Judgments"
          yDomain={[0, Math.max(1, ...days.map((d) => d.count))]}
          integerY
          height={200}
        />
      )}
    </div>
  );
}
