/** A campaign's or rater's status as a badge in the shared tone classes. */

import { Badge, type Tone } from "../shared/Badge";

const STATUS_TEXT: Record<string, string> = {
  draft: "Draft",
  active: "Active",
  paused: "Paused",
  archived: "Archived",
};

const STATUS_TONE: Record<string, Tone> = {
  active: "ok",
  paused: "warn",
  archived: "neutral",
};

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONE[status]}>{STATUS_TEXT[status] ?? status}</Badge>;
}

/** Marks an arena campaign: blind comparisons of named models' answers. */
export function ArenaBadge() {
  return (
    <Badge tone="accent" status="arena">
      Arena
    </Badge>
  );
}
