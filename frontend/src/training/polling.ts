/** When the dashboard asks the server again: only while something can still change, and only
 * while someone can see it. */

import { useEffect, useRef } from "react";
import type { RunStatus } from "./types";

export const POLL_MS = 2000;

export function isActive(status: RunStatus): boolean {
  return status === "queued" || status === "running";
}

/** Poll while any run is queued or running and the tab is visible. */
export function shouldPoll(runs: readonly { status: RunStatus }[], hidden: boolean): boolean {
  return !hidden && runs.some((run) => isActive(run.status));
}

/** Calls `tick` every `ms` while `enabled` and the tab is visible; a hidden tab pauses it, and
 * coming back calls it at once (the data may be minutes old). One call at a time: the next
 * waits for the previous to settle. */
export function usePolling(tick: () => Promise<unknown>, enabled: boolean, ms = POLL_MS): void {
  const latest = useRef(tick);
  useEffect(() => {
    latest.current = tick;
  });
  useEffect(() => {
    if (!enabled) return;
    let timer: number | undefined;
    let stopped = false;
    let busy = false;
    const schedule = () => {
      window.clearTimeout(timer);
      if (!stopped && !document.hidden) timer = window.setTimeout(run, ms);
    };
    const run = () => {
      if (busy) return;
      busy = true;
      // The caller shows its own errors; a failed tick only waits for the next.
      latest.current()
        .catch(() => undefined)
        .finally(() => {
          busy = false;
          schedule();
        });
    };
    const visibility = () => {
      if (document.hidden) window.clearTimeout(timer);
      else run();
    };
    schedule();
    document.addEventListener("visibilitychange", visibility);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", visibility);
    };
  }, [enabled, ms]);
}
