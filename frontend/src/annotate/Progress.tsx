import { useEffect, useState } from "react";
import type { MyStats } from "../api/types";

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/** Re-renders only itself once a second. */
function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function Progress({ stats, startedAt }: { stats: MyStats | null; startedAt: number | null }) {
  const now = useNow();
  return (
    <dl className="progress" aria-label="Your progress">
      <div>
        <dt>Done today</dt>
        <dd data-testid="done-today">{stats ? stats.submitted_today : "…"}</dd>
      </div>
      {startedAt !== null && (
        <div>
          <dt>On this task</dt>
          <dd>
            <time>{formatDuration(now - startedAt)}</time>
          </dd>
        </div>
      )}
      <div>
        <dt>{startedAt !== null ? "Left after this" : "Left for you"}</dt>
        <dd data-testid="tasks-left">{stats ? stats.tasks_available : "…"}</dd>
      </div>
    </dl>
  );
}

/** A notice once the lease has run out: the server still keeps a late submission. */
export function LeaseNotice({ expiresAt }: { expiresAt: string }) {
  const now = useNow(5000);
  const expiry = Date.parse(expiresAt);
  if (!(now >= expiry)) return null;
  const at = new Date(expiry).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <p className="notice warning" role="status" data-testid="lease-expired">
      Your time on this task ran out at {at}. You can still submit: your judgment is kept, though the
      task may have been given to someone else meanwhile. Or skip it.
    </p>
  );
}
