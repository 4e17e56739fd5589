/**
 * The rater's work in progress, kept in localStorage so a reload or a crash returns the same
 * task with the ranking as it was, and a submission the network lost is sent again with the
 * same idempotency key until the server answers.
 */

import { isPairChoice, type PairChoice } from "./pairwise";
import type { SubmitRequest } from "../api/types";

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** What a submission sends; kept whole in the draft so a retry sends exactly the same. */
export type SubmitBody = SubmitRequest;

export interface PendingSubmit {
  body: SubmitBody;
  attempts: number;
  lastError: string;
}

export interface Draft {
  version: 1;
  assignmentId: number;
  ranks: Record<string, number | null>;
  choice: PairChoice | null;
  flags: string[];
  /** Flags on single responses, by label ({"B": ["unsafe"]}); absent in older drafts. */
  responseFlags?: Record<string, string[]>;
  rationale: string;
  focus: number;
  /** When the rater first saw this task (epoch ms): time on task survives a reload. */
  startedAt: number;
  pending: PendingSubmit | null;
}

export function draftKey(username: string): string {
  return `rlhf-studio:draft:v1:${username}`;
}

export function newDraft(assignmentId: number, now: number): Draft {
  return {
    version: 1,
    assignmentId,
    ranks: {},
    choice: null,
    flags: [],
    responseFlags: {},
    rationale: "",
    focus: 0,
    startedAt: now,
    pending: null,
  };
}

export function saveDraft(store: KeyValueStore, username: string, draft: Draft): boolean {
  try {
    store.setItem(draftKey(username), JSON.stringify(draft));
    return true;
  } catch {
    return false; // storage full or disabled: the page still works, only without a draft
  }
}

export function clearDraft(store: KeyValueStore, username: string): void {
  try {
    store.removeItem(draftKey(username));
  } catch {
    // nothing to clear
  }
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

function isFlagMap(value: unknown): value is Record<string, string[]> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every(isStringArray);
}

function isTiers(value: unknown): value is string[][] {
  return Array.isArray(value) && value.every(isStringArray);
}

function parsePending(value: unknown): PendingSubmit | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object") return undefined;
  const { body, attempts, lastError } = value as Record<string, unknown>;
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const valid =
    isTiers(b.ranking) &&
    typeof b.idempotency_key === "string" &&
    isStringArray(b.flags) &&
    (b.response_flags === undefined || isFlagMap(b.response_flags)) &&
    typeof b.rationale === "string" &&
    typeof b.client_time_ms === "number" &&
    (b.strength === undefined || typeof b.strength === "string");
  if (!valid) return undefined;
  return {
    body: b as unknown as SubmitBody,
    attempts: typeof attempts === "number" ? attempts : 0,
    lastError: typeof lastError === "string" ? lastError : "",
  };
}

/** The saved draft, or null when there is none or it cannot be trusted. */
export function loadDraft(store: KeyValueStore, username: string): Draft | null {
  let raw: string | null;
  try {
    raw = store.getItem(draftKey(username));
  } catch {
    return null;
  }
  if (!raw) return null;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null) return null;
  const d = data as Record<string, unknown>;
  const pending = parsePending(d.pending);
  const ranks = d.ranks;
  const valid =
    d.version === 1 &&
    typeof d.assignmentId === "number" &&
    typeof ranks === "object" &&
    ranks !== null &&
    Object.values(ranks).every((rank) => rank === null || typeof rank === "number") &&
    (d.choice === null || isPairChoice(d.choice)) &&
    isStringArray(d.flags) &&
    (d.responseFlags === undefined || isFlagMap(d.responseFlags)) &&
    typeof d.rationale === "string" &&
    typeof d.focus === "number" &&
    typeof d.startedAt === "number" &&
    pending !== undefined;
  if (!valid) return null;
  return { ...(d as unknown as Draft), pending };
}

/** A fresh idempotency key: 32 hex digits (crypto.randomUUID needs a secure context). */
export function newIdempotencyKey(random: (bytes: Uint8Array) => Uint8Array): string {
  const bytes = random(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Retry delays for a lost submission: quick at first, then every 8 seconds. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(attempts - 1, 0), 8000);
}
