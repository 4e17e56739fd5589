/** How audit events read in the console. */

import type { AuditEvent } from "./api";

/** An event's details as short "key: value" pairs (the action itself is shown as sent, so
 * it can be searched for). */
export function describeDetails(details: unknown): string {
  if (details === null || details === undefined) return "";
  if (typeof details !== "object") return String(details);
  const entries = Array.isArray(details) ? details.map((value, index) => [String(index), value] as const) : Object.entries(details);
  return entries
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join("; ");
}

/** An event with the names the server copied when it was written (a user's, a campaign's), so
 * it reads right after its actor or target is renamed or deleted. */
export type NamedAuditEvent = AuditEvent;

/** Who acted: the name kept on the event; none means the system (a schedule, a command). */
export function describeActor(event: Pick<NamedAuditEvent, "actor_name" | "actor_username">): string | null {
  return event.actor_name || event.actor_username || null;
}

/** What was acted on: its name, with its type and id to tell apart two of the same name. */
export function describeTarget(event: Pick<NamedAuditEvent, "target_type" | "target_id" | "target_name">): string {
  const ref = event.target_id ? `${event.target_type} #${event.target_id}` : event.target_type;
  const name = event.target_name ?? "";
  return name && name !== ref ? `${name} (${ref})` : ref;
}

export interface PageWindow {
  first: number;
  last: number;
  hasPrevious: boolean;
  hasNext: boolean;
  text: string;
}

/** Which rows a page shows, in words ("41–60 of 75"). */
export function pageWindow(offset: number, shown: number, count: number): PageWindow {
  const first = count === 0 ? 0 : offset + 1;
  const last = offset + shown;
  return {
    first,
    last,
    hasPrevious: offset > 0,
    hasNext: last < count,
    text: count === 0 ? "No events" : `${first}–${last} of ${count}`,
  };
}
