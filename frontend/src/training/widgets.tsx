import { Badge, type Tone } from "../shared/Badge";
import { percentOf, progressText, STATUS_NAMES } from "./format";
import { PROMOTION_NAMES, PROMOTION_TONES } from "./promotion";
import type { Promotion, Run, RunStatus } from "./types";

const RUN_TONE: Record<RunStatus, Tone> = {
  queued: "neutral",
  running: "accent",
  succeeded: "ok",
  failed: "bad",
  cancelled: "warn",
};

export function RunStatusBadge({ status, stopping = false }: { status: RunStatus; stopping?: boolean }) {
  return (
    <Badge tone={RUN_TONE[status]} status={status}>
      {stopping && status === "running" ? "Stopping" : STATUS_NAMES[status]}
    </Badge>
  );
}

/** A policy version's promotion gate, as a badge; nothing when it has no gate. */
export function PromotionBadge({ promotion }: { promotion: Promotion }) {
  if (promotion === "") return null;
  return (
    <Badge tone={PROMOTION_TONES[promotion]} status={promotion}>
      {PROMOTION_NAMES[promotion]}
    </Badge>
  );
}

/** A run's progress: a bar with its percent, and the step and time left in words. */
export function RunProgress({ run, label, wide = false }: { run: Run; label: string; wide?: boolean }) {
  const percent = run.status === "succeeded" ? 100 : percentOf(run.progress);
  return (
    <div className={`run-progress${wide ? " is-wide" : ""}`}>
      <div className="run-progress-line">
        <div
          className={`run-bar run-${run.status}`}
          role="progressbar"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          aria-valuetext={`${percent} %, ${progressText(run)}`}
        >
          <span style={{ width: `${percent}%` }} />
        </div>
        <span className="run-percent" data-testid="run-percent">
          {percent} %
        </span>
      </div>
      <span className="run-progress-text muted">{progressText(run)}</span>
    </div>
  );
}

/** A definition list of facts, skipping the ones that are unknown. */
export function Facts({ items, label }: { items: [string, React.ReactNode][]; label?: string }) {
  const shown = items.filter(([, value]) => value !== null && value !== undefined && value !== "");
  return (
    <dl className="facts" aria-label={label}>
      {shown.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
