import { ErrorNotice, Loading, useLoad } from "../shared/ui";
import { trainingApi } from "./api";
import { KlDriftChart } from "./KlDriftChart";
import { LengthPreferenceChart } from "./LengthPreferenceChart";
import { RewardKlChart } from "./RewardKlChart";
import type { Watch, WatchWarning } from "./types";
import { WARNING_TITLES, watchFacts } from "./watch";
import { Facts } from "./widgets";

/** What the reward-hacking watch warned about at the end of a round, as an alert; nothing
 * when it did not warn. */
export function WatchWarnings({ warnings }: { warnings: WatchWarning[] }) {
  if (warnings.length === 0) return null;
  return (
    <div className="notice warning watch-warnings" role="alert" data-testid="watch-warnings">
      <p className="notice-text">
        <b>
          Reward-hacking watch: {warnings.length} warning{warnings.length === 1 ? "" : "s"}
        </b>
      </p>
      <ul>
        {warnings.map((warning) => (
          <li key={warning.code} data-code={warning.code}>
            <b>{WARNING_TITLES[warning.code]}.</b> {warning.detail}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A PPO or DPO run's watch: its warnings, its figures, then (PPO) reward against KL. */
export function RoundWatch({ watch }: { watch: Watch }) {
  return (
    <section className="round-watch" aria-labelledby="watch-title" data-testid="round-watch">
      <h3 id="watch-title">Reward-hacking watch</h3>
      {watch.error ? (
        <p className="notice warning" role="status">
          The watch could not measure this round ({watch.error}); the round itself finished and its policy was saved.
        </p>
      ) : (
        <>
          <WatchWarnings warnings={watch.warnings} />
          {watch.warnings.length === 0 && <p className="muted">No warnings: the round stayed within every threshold the watch checks.</p>}
        </>
      )}
      <Facts label="The watch's figures" items={watchFacts(watch)} />
      {watch.reward_kl.length > 0 && <RewardKlChart watch={watch} />}
    </section>
  );
}

/** The chart along a policy version's lineage, loaded from the server. */
export function LengthPreferencePanel({ versionId }: { versionId: number }) {
  const chart = useLoad(() => trainingApi.lengthPreference(versionId), versionId);
  if (chart.error) return <ErrorNotice error={chart.error} onRetry={chart.reload} />;
  if (!chart.data) return <Loading what="the length preference chart" />;
  return (
    <>
      <LengthPreferenceChart chart={chart.data} />
      <KlDriftChart rounds={chart.data.rounds} />
    </>
  );
}
