/**
 * The annotate page's life cycle: restore the draft or claim the next task, keep every edit in
 * the draft, submit (and resend a lost submission with the same key until the server answers),
 * skip, and say clearly what happened.
 */

import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, NetworkError } from "../api/client";
import type { Assignment, MyStats, SubmitResult } from "../api/types";
import {
  clearDraft,
  loadDraft,
  newDraft,
  newIdempotencyKey,
  retryDelayMs,
  saveDraft,
  type Draft,
  type KeyValueStore,
  type PendingSubmit,
  type SubmitBody,
} from "../ranking/draft";
import { applyCommand, isReady, type Board, type Command, type Effect, type Mode } from "../ranking/keyboard";
import { pairTiers } from "../ranking/pairwise";
import { restoreRanking, submissionTiers, unrankedOf } from "../ranking/ranking";

export interface Work {
  assignment: Assignment;
  mode: Mode;
  board: Board;
  flags: string[];
  /** Flags on single responses, by label. */
  responseFlags: Record<string, string[]>;
  rationale: string;
  startedAt: number;
  pending: PendingSubmit | null;
}

export type Phase =
  | { kind: "loading" }
  | { kind: "task" }
  | { kind: "empty" }
  | { kind: "blocked"; message: string }
  | { kind: "error"; message: string };

export interface Notice {
  tone: "success" | "info" | "warning" | "error";
  text: string;
}

const labelsOf = (assignment: Assignment) => assignment.responses.map((r) => r.label);

export const modeOf = (assignment: Assignment): Mode =>
  assignment.campaign.judgment_mode === "pairwise" ? "pairwise" : "rank";

/** The saved per-response flags this assignment still offers, on labels it has. */
function knownResponseFlags(assignment: Assignment, saved: Record<string, string[]>): Record<string, string[]> {
  const labels = labelsOf(assignment);
  return Object.fromEntries(
    Object.entries(saved)
      .filter(([label]) => labels.includes(label))
      .map(([label, flags]) => [label, flags.filter((flag) => assignment.response_flags.includes(flag))] as const)
      .filter(([, flags]) => flags.length > 0),
  );
}

function workFrom(assignment: Assignment, draft: Draft | null): Work {
  const labels = labelsOf(assignment);
  const saved = draft && draft.assignmentId === assignment.id ? draft : newDraft(assignment.id, Date.now());
  return {
    assignment,
    mode: modeOf(assignment),
    board: {
      ranking: restoreRanking(labels, saved.ranks),
      focus: Math.min(Math.max(saved.focus, 0), labels.length - 1),
      choice: saved.choice && (saved.choice.winner === null || labels.includes(saved.choice.winner)) ? saved.choice : null,
    },
    flags: saved.flags.filter((flag) => assignment.flags.includes(flag)),
    responseFlags: knownResponseFlags(assignment, saved.responseFlags ?? {}),
    rationale: saved.rationale,
    startedAt: saved.startedAt,
    pending: saved.pending,
  };
}

function draftOf(work: Work): Draft {
  return {
    version: 1,
    assignmentId: work.assignment.id,
    ranks: { ...work.board.ranking.ranks },
    choice: work.board.choice,
    flags: work.flags,
    responseFlags: work.responseFlags,
    rationale: work.rationale,
    focus: work.board.focus,
    startedAt: work.startedAt,
    pending: work.pending,
  };
}

function bodyOf(work: Work, now: number): SubmitBody {
  const { board, mode, assignment } = work;
  const body: SubmitBody = {
    ranking: mode === "pairwise" ? pairTiers(board.choice!, labelsOf(assignment)) : submissionTiers(board.ranking),
    idempotency_key: newIdempotencyKey((bytes) => crypto.getRandomValues(bytes)),
    flags: work.flags as SubmitBody["flags"], // the server's own flag names, from the assignment
    response_flags: work.responseFlags as SubmitBody["response_flags"],
    rationale: work.rationale.trim(),
    client_time_ms: Math.max(0, Math.round(now - work.startedAt)),
  };
  if (mode === "pairwise") body.strength = board.choice!.strength;
  return body;
}

/** What is still missing before a submit, in words. */
export function missingText(work: Work): string {
  if (work.mode === "pairwise") return "Pick a point on the scale first.";
  const open = unrankedOf(work.board.ranking);
  const list = open.join(", ");
  return open.length === 1 ? `Rank every response first: ${list} is not ranked yet.` : `Rank every response first: ${list} are not ranked yet.`;
}

function savedText(result: SubmitResult): string {
  if (result.was_late && result.is_surplus) {
    return "Saved after your time on that task ran out. It was already complete, so your judgment is kept as an extra one.";
  }
  if (result.was_late) return "Saved after your time on that task ran out; your judgment was still kept.";
  if (result.replayed) return "Saved (the server already had this submission).";
  return "Saved.";
}

const describe = (error: unknown) =>
  error instanceof NetworkError
    ? "the server could not be reached"
    : error instanceof ApiError
      ? error.detail
      : "something went wrong";

export function useAnnotation(username: string, storage: KeyValueStore) {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [work, setWork] = useState<Work | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [stats, setStats] = useState<MyStats | null>(null);
  const workRef = useRef<Work | null>(null);
  const alive = useRef(true);
  const sending = useRef(false);
  const retryTimer = useRef<number | undefined>(undefined);

  /** Every change goes through here: state for the screen, the draft for a reload. */
  const commit = useCallback(
    (next: Work | null) => {
      workRef.current = next;
      if (next) saveDraft(storage, username, draftOf(next));
      else clearDraft(storage, username);
      if (alive.current) setWork(next);
    },
    [storage, username],
  );

  const update = useCallback(
    (change: (current: Work) => Work) => {
      const current = workRef.current;
      if (current && !current.pending) commit(change(current));
    },
    [commit],
  );

  const refreshStats = useCallback(() => {
    api.stats().then(
      (value) => alive.current && setStats(value),
      () => undefined, // progress is a nicety; the task matters
    );
  }, []);

  const failed = useCallback((error: unknown) => {
    if (!alive.current) return;
    if (error instanceof ApiError && error.isSessionEnded) return; // the app shows the login
    if (error instanceof ApiError && error.code === "rater_paused") {
      setPhase({ kind: "blocked", message: error.detail });
      return;
    }
    setPhase({ kind: "error", message: `Could not load a task: ${describe(error)}.` });
  }, []);

  /** Show a task (with its draft, if it is this task's) and resend what is still pending. */
  const sendRef = useRef<() => Promise<void>>(async () => undefined);
  const adopt = useCallback(
    (assignment: Assignment, draft: Draft | null) => {
      const work = workFrom(assignment, draft);
      commit(work);
      setPhase({ kind: "task" });
      if (work.pending) {
        setNotice({ tone: "info", text: "Sending your last submission again." });
        void sendRef.current();
      }
    },
    [commit],
  );

  const claimNext = useCallback(async () => {
    refreshStats();
    try {
      const assignment = await api.next();
      if (!alive.current) return;
      if (assignment === null) {
        commit(null);
        setPhase({ kind: "empty" });
        return;
      }
      adopt(assignment, loadDraft(storage, username));
    } catch (error) {
      failed(error);
    }
  }, [adopt, commit, failed, refreshStats, storage, username]);

  const finished = useCallback(
    (text: string, tone: Notice["tone"] = "success") => {
      window.clearTimeout(retryTimer.current);
      commit(null);
      setNotice({ tone, text });
      setPhase({ kind: "loading" });
      void claimNext();
    },
    [claimNext, commit],
  );

  const send = useCallback(async () => {
    const current = workRef.current;
    if (!current?.pending || sending.current) return;
    window.clearTimeout(retryTimer.current);
    sending.current = true;
    const pending = { ...current.pending, attempts: current.pending.attempts + 1 };
    commit({ ...current, pending });
    try {
      const answer = await api.submit(current.assignment.id, pending.body);
      finished(savedText(answer.data!));
    } catch (error) {
      const latest = workRef.current;
      if (!latest || latest.assignment.id !== current.assignment.id) return;
      if (error instanceof NetworkError || (error instanceof ApiError && error.isTransient)) {
        commit({ ...latest, pending: { ...pending, lastError: describe(error) } });
        retryTimer.current = window.setTimeout(() => void sendRef.current(), retryDelayMs(pending.attempts));
      } else if (error instanceof ApiError && error.isSessionEnded) {
        // Kept in the draft, pending: sent again once the rater has signed in.
      } else if (error instanceof ApiError && error.code === "already_submitted") {
        finished("That task had already been submitted (perhaps from another tab).", "info");
      } else {
        commit({ ...latest, pending: null });
        setNotice({ tone: "error", text: `Not saved: ${describe(error)}` });
      }
    } finally {
      sending.current = false;
    }
  }, [commit, finished]);

  useEffect(() => {
    sendRef.current = send;
  }, [send]);

  const submit = useCallback(() => {
    const current = workRef.current;
    if (!current || current.pending) return;
    if (!isReady(current.board, current.mode)) {
      setNotice({ tone: "warning", text: missingText(current) });
      return;
    }
    setNotice(null);
    commit({ ...current, pending: { body: bodyOf(current, Date.now()), attempts: 0, lastError: "" } });
    void send();
  }, [commit, send]);

  const skip = useCallback(
    async (reason: string) => {
      const current = workRef.current;
      if (!current || current.pending) return;
      try {
        await api.skip(current.assignment.id, reason);
        finished("Skipped. It will not be offered to you again.", "info");
      } catch (error) {
        if (error instanceof ApiError && error.isSessionEnded) return;
        setNotice({ tone: "error", text: `Could not skip: ${describe(error)}.` });
      }
    },
    [finished],
  );

  /** First load (and "try again"): the draft's task if it is still open, else the next one. */
  const start = useCallback(async () => {
    const draft = loadDraft(storage, username);
    if (draft) {
      try {
        const assignment = await api.assignment(draft.assignmentId);
        if (!alive.current) return;
        const open = assignment.status === "leased" || assignment.status === "expired";
        if (open || (draft.pending && assignment.status === "submitted")) {
          refreshStats();
          adopt(assignment, draft);
          return;
        }
      } catch (error) {
        // Only a 404 (the task is gone) lets the draft go; anything else keeps it for a retry.
        if (!(error instanceof ApiError) || error.status !== 404) return failed(error);
      }
      clearDraft(storage, username);
    }
    await claimNext();
  }, [adopt, claimNext, failed, refreshStats, storage, username]);

  // Good news fades after a while; warnings and errors stay until something replaces them.
  useEffect(() => {
    if (!notice || notice.tone === "warning" || notice.tone === "error") return;
    const timer = window.setTimeout(() => setNotice(null), 8000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  useEffect(() => {
    alive.current = true;
    // start() sets state only after its first await: no cascading render.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void start();
    const online = () => void send();
    window.addEventListener("online", online);
    return () => {
      alive.current = false;
      window.clearTimeout(retryTimer.current);
      window.removeEventListener("online", online);
    };
  }, [start, send]);

  const command = useCallback(
    (cmd: Command): Effect => {
      const current = workRef.current;
      if (!current || current.pending) return null;
      const step = applyCommand(current.board, cmd);
      if (step.board !== current.board) commit({ ...current, board: step.board });
      return step.effect;
    },
    [commit],
  );

  return {
    phase,
    work,
    notice,
    stats,
    setNotice,
    update,
    command,
    submit,
    skip,
    retryNow: () => void send(),
    checkAgain: () => {
      setPhase({ kind: "loading" });
      void claimNext();
    },
    tryAgain: () => {
      setPhase({ kind: "loading" });
      void start();
    },
  };
}
