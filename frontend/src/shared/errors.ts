/** Turning any failure into words for an admin: a message, field errors, an import's bad rows. */

import { ApiError, NetworkError } from "../api/client";

export type FieldErrors = Record<string, string[]>;

export interface RowProblem {
  line: number;
  reason: string;
}

/** One readable sentence for any failure; never an empty string. */
export function errorMessage(error: unknown): string {
  if (error instanceof NetworkError) return "The server could not be reached. Check your connection and try again.";
  if (error instanceof ApiError) {
    if (error.status === 403 && error.code !== "not_authenticated") return `Not allowed: ${error.detail}`;
    if (error.status === 404) return "Not found: it may have been deleted meanwhile. Reload the list.";
    if (error.status >= 500) return `The server failed (${error.status}): ${error.detail} Try again in a moment.`;
    const fields = unplacedErrors(fieldErrors(error), []);
    if (fields.length > 0) return fields.join(" ");
    return error.detail || `The server answered ${error.status}.`;
  }
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong. Try again.";
}

function messages(value: unknown, prefix = ""): [string, string[]][] {
  if (typeof value === "string") return [[prefix, [value]]];
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === "string")) return [[prefix, value as string[]]];
    // A list of nested objects (one per list item): name them field.0.inner.
    return value.flatMap((item, index) => messages(item, prefix ? `${prefix}.${index}` : String(index)));
  }
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => messages(inner, prefix ? `${prefix}.${key}` : key));
  }
  return [];
}

/** DRF's `errors` object flattened to field → messages; {} when the error has none. */
export function fieldErrors(error: unknown): FieldErrors {
  if (!(error instanceof ApiError) || !error.errors || typeof error.errors !== "object") return {};
  if (Array.isArray(error.errors)) return {};
  const result: FieldErrors = {};
  for (const [field, list] of messages(error.errors)) {
    const key = field || "non_field_errors";
    result[key] = [...(result[key] ?? []), ...list];
  }
  return result;
}

/** An import's rejected rows (`errors` as a list of {line, reason}); [] for any other error. */
export function rowProblems(error: unknown): RowProblem[] {
  if (!(error instanceof ApiError) || !Array.isArray(error.errors)) return [];
  return error.errors
    .filter((row): row is RowProblem => !!row && typeof row === "object" && "reason" in row)
    .map((row) => ({ line: Number(row.line) || 0, reason: String(row.reason) }));
}

/** Field errors the form has no field for, as sentences, so none is silently dropped. */
export function unplacedErrors(errors: FieldErrors, shown: readonly string[]): string[] {
  return Object.entries(errors)
    .filter(([field]) => !shown.includes(field))
    .map(([field, list]) => (field === "non_field_errors" ? list.join(" ") : `${humanField(field)}: ${list.join(" ")}`));
}

const FIELD_NAMES: Record<string, string> = {
  responses_per_task: "Responses per task (K)",
  lease_ttl_s: "Lease TTL",
  judgment_mode: "Judgment mode",
};

/** "gold_rate" → "Gold rate"; a few fields by their form labels. */
export function humanField(field: string): string {
  if (field in FIELD_NAMES) return FIELD_NAMES[field];
  const words = field.replace(/[_.]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
