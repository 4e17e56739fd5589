import type { ReactNode } from "react";

/** The badge tones in shared.css; each page maps its own statuses onto them. */
export type Tone = "neutral" | "accent" | "ok" | "warn" | "bad";

/** A short status word in a pill. `status` names the raw status for tests and styles. */
export function Badge({ tone, status, children }: { tone?: Tone; status?: string; children: ReactNode }) {
  return (
    <span className={`badge${tone ? ` tone-${tone}` : ""}`} data-status={status}>
      {children}
    </span>
  );
}
