/** A campaign's or rater's status as a badge in the shared tone classes. */

const STATUS_TEXT: Record<string, string> = {
  draft: "Draft",
  active: "Active",
  paused: "Paused",
  archived: "Archived",
};

const STATUS_TONE: Record<string, string> = {
  active: "ok",
  paused: "warn",
  archived: "neutral",
};

export function StatusBadge({ status }: { status: string }) {
  const tone = STATUS_TONE[status];
  return (
    <span className={`badge${tone ? ` tone-${tone}` : ""}`}>
      {STATUS_TEXT[status] ?? status}
    </span>
  );
}
