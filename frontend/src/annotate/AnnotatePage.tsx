import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Me } from "../api/types";
import { Markdown } from "../markdown/Markdown";
import { commandFor, keyHelp } from "../ranking/keyboard";
import { describeRank, place, rankOf, setRank, tieWithAbove, type Ranking } from "../ranking/ranking";
import { flagText, toggledFlag } from "../shared/flags";
import { browserStorage } from "../storage";
import { Conversation } from "./Conversation";
import { KeyHelpDialog, SkipDialog } from "./dialogs";
import { PairwiseScale } from "./PairwiseScale";
import { LeaseNotice, Progress } from "./Progress";
import { RankingRail } from "./RankingRail";
import { ResponseCard } from "./ResponseCard";
import { missingText, useAnnotation, type Work } from "./useAnnotation";

const WIDE = "(min-width: 1100px)";
const FINE_POINTER = "(pointer: fine)";

function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const change = () => setMatches(list.matches);
    list.addEventListener("change", change);
    return () => list.removeEventListener("change", change);
  }, [query]);
  return matches;
}

/** Keys typed into a field, or meant for a focused control, are not shortcuts. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function activatesOnEnter(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && ["BUTTON", "A", "SUMMARY"].includes(target.tagName);
}

/** Scroll a response into view only if its top is out of comfortable sight. */
function reveal(element: HTMLElement) {
  element.focus({ preventScroll: true });
  const top = element.getBoundingClientRect().top;
  if (top < 64 || top > window.innerHeight * 0.6) element.scrollIntoView({ block: "start" });
}

/** Bring an element's start into sight: inside the side column when it scrolls on its own
 * (laptop size), else in the page, below the top bar (its CSS scroll-margin). */
function showStartOf(element: HTMLElement) {
  const side = element.closest<HTMLElement>(".task-side");
  if (side && side.scrollHeight > side.clientHeight) {
    side.scrollTop += element.getBoundingClientRect().top - side.getBoundingClientRect().top;
  } else {
    element.scrollIntoView({ block: "start" });
  }
}

export function AnnotatePage({ me }: { me: Me }) {
  const storage = useMemo(() => browserStorage(), []);
  const flow = useAnnotation(me.username, storage);
  const { phase, work, notice, stats } = flow;
  const wide = useMedia(WIDE);
  const canDrag = useMedia(FINE_POINTER);
  const [helpOpen, setHelpOpen] = useState(false);
  const [skipOpen, setSkipOpen] = useState(false);
  // Open beside the task on wide screens, folded on narrow ones, until the rater chooses.
  const [guidelinesChoice, setGuidelinesOpen] = useState<boolean | null>(null);
  const guidelinesOpen = guidelinesChoice ?? wide;
  const guidelinesRef = useRef<HTMLElement>(null);
  const cards = useRef<Record<string, HTMLElement | null>>({});
  const focusByKey = useRef(false);
  const assignmentId = work?.assignment.id ?? null;

  // A new task: put keyboard focus on its focused response, without scrolling past the prompt.
  useEffect(() => {
    if (phase.kind !== "task" || !work) return;
    const label = work.assignment.responses[work.board.focus]?.label;
    if (work.mode === "rank" && label) cards.current[label]?.focus({ preventScroll: true });
    performance.mark("rlhf:interactive");
    // Only when the task changes, not on every edit of it.
  }, [phase.kind, assignmentId]); // eslint-disable-line react-hooks/exhaustive-deps

  // Open the guidelines and bring their start into sight, wherever they are in the page (the
  // panel's start does not move when it unfolds, so there is no need to wait for the render).
  const showGuidelines = useCallback(() => {
    setGuidelinesOpen(true);
    if (guidelinesRef.current) showStartOf(guidelinesRef.current);
  }, []);

  // Keyboard moves focus: follow it with the DOM focus.
  const focusIndex = work?.board.focus ?? 0;
  useEffect(() => {
    if (!focusByKey.current || !work) return;
    focusByKey.current = false;
    const card = cards.current[work.assignment.responses[focusIndex]?.label ?? ""];
    if (card) reveal(card);
  }, [focusIndex, work?.board]); // eslint-disable-line react-hooks/exhaustive-deps

  const onKeyDown = useCallback(
    (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing || !work) return;
      if (document.querySelector("dialog[open]")) {
        if (event.key === "?" && helpOpen) {
          event.preventDefault();
          setHelpOpen(false);
        }
        return;
      }
      if (isTyping(event.target)) return;
      if (event.key === "Enter" && activatesOnEnter(event.target)) return;
      const command = commandFor(event, work.mode, work.assignment.responses.length);
      if (!command) return;
      event.preventDefault();
      if (command.kind === "focus" || command.kind === "rank" || command.kind === "tie") focusByKey.current = true;
      const effect = flow.command(command);
      if (effect === "submit") flow.submit();
      if (effect === "help") setHelpOpen((open) => !open);
      if (effect === "guidelines") {
        if (guidelinesOpen) setGuidelinesOpen(false);
        else showGuidelines();
      }
    },
    [flow, guidelinesOpen, helpOpen, showGuidelines, work],
  );

  useEffect(() => {
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [onKeyDown]);

  if (phase.kind === "loading" && !work) {
    return (
      <main id="main" className="page-message" aria-busy="true">
        <p role="status">Loading your next task…</p>
      </main>
    );
  }
  if (phase.kind === "empty") {
    return (
      <main id="main" className="page-message">
        {notice && <p className={`notice ${notice.tone}`} role="status">{notice.text}</p>}
        <h1>No tasks left for you</h1>
        <p>
          Thank you: there is nothing for you to rank right now. New tasks appear when more prompts are
          imported or another rater's time on a task runs out.
        </p>
        <Progress stats={stats} startedAt={null} />
        <button type="button" className="button primary" onClick={flow.checkAgain}>
          Check again
        </button>
      </main>
    );
  }
  if (phase.kind === "blocked" || phase.kind === "error") {
    return (
      <main id="main" className="page-message">
        <h1>{phase.kind === "blocked" ? "Your account is paused" : "Something went wrong"}</h1>
        <p role="alert">{phase.message}</p>
        <button type="button" className="button primary" onClick={flow.tryAgain}>
          Try again
        </button>
      </main>
    );
  }
  if (!work) return null;
  return (
    <TaskView
      work={work}
      flow={flow}
      wide={wide}
      canDrag={canDrag}
      guidelinesOpen={guidelinesOpen}
      setGuidelinesOpen={setGuidelinesOpen}
      showGuidelines={showGuidelines}
      guidelinesRef={guidelinesRef}
      helpOpen={helpOpen}
      setHelpOpen={setHelpOpen}
      skipOpen={skipOpen}
      setSkipOpen={setSkipOpen}
      cards={cards}
    />
  );
}

/** The line beside Submit: how far the ranking is, or where a submission stands. */
function statusText(work: Work, ready: boolean, rankedCount: number): string {
  const { pending, mode } = work;
  if (pending?.lastError) return "Not sent yet: kept on this device, sent again automatically";
  if (pending) return "Sending…";
  if (ready) return "Ready to submit";
  return mode === "pairwise" ? "Pick a point" : `${rankedCount} of ${work.assignment.responses.length} ranked`;
}

interface TaskViewProps {
  work: Work;
  flow: ReturnType<typeof useAnnotation>;
  wide: boolean;
  canDrag: boolean;
  guidelinesOpen: boolean;
  setGuidelinesOpen: (open: boolean) => void;
  showGuidelines: () => void;
  guidelinesRef: React.RefObject<HTMLElement | null>;
  helpOpen: boolean;
  setHelpOpen: (open: boolean) => void;
  skipOpen: boolean;
  setSkipOpen: (open: boolean) => void;
  cards: React.MutableRefObject<Record<string, HTMLElement | null>>;
}

function TaskView(props: TaskViewProps) {
  const { work, flow, canDrag, cards, guidelinesRef } = props;
  const { assignment, board, mode, pending } = work;
  const labels = assignment.responses.map((r) => r.label);
  const k = labels.length;
  const locked = pending !== null;
  const setRanking = (change: (ranking: Ranking) => Ranking) =>
    flow.update((w) => ({ ...w, board: { ...w.board, ranking: change(w.board.ranking) } }));
  const ready = mode === "pairwise" ? board.choice !== null : labels.every((l) => rankOf(board.ranking, l) !== null);
  const rankedCount = labels.filter((l) => rankOf(board.ranking, l) !== null).length;

  const guidelines = (
    <aside className="panel guidelines" aria-labelledby="guidelines-title" ref={guidelinesRef}>
      <details open={props.guidelinesOpen} onToggle={(event) => props.setGuidelinesOpen(event.currentTarget.open)}>
        <summary>
          <h2 id="guidelines-title">Guidelines</h2>
          <span className="muted"> (g)</span>
        </summary>
        <Markdown text={assignment.campaign.guidelines || "No guidelines for this campaign."} />
      </details>
    </aside>
  );

  const judging =
    mode === "pairwise" ? (
      <PairwiseScale
        labels={labels}
        choice={board.choice}
        locked={locked}
        onChoose={(choice) => flow.update((w) => ({ ...w, board: { ...w.board, choice } }))}
      />
    ) : (
      <RankingRail
        ranking={board.ranking}
        canDrag={canDrag}
        locked={locked}
        onPlace={(label, placement) => setRanking((r) => place(r, label, placement))}
        onUnrank={(label) => setRanking((r) => setRank(r, label, null))}
        onPick={(label) => {
          const card = cards.current[label];
          if (card) reveal(card);
        }}
      />
    );

  // The submit bar is always in sight: on a phone it sticks to the bottom of the whole page (so
  // it lives outside the grid); at laptop size, to the bottom of the side column it ends.
  const actions = (
    <div className="actions">
      <p className={`status-line${pending?.lastError ? " unsent" : " muted"}`} aria-live="polite" data-testid="submit-state">
        {statusText(work, ready, rankedCount)}
      </p>
      <button type="button" className="button" aria-keyshortcuts="g" title="Guidelines (g)" onClick={props.showGuidelines}>
        Guidelines
      </button>
      <button type="button" className="button" disabled={locked} onClick={() => props.setSkipOpen(true)}>
        Skip…
      </button>
      <button
        type="button"
        className="button primary"
        disabled={locked}
        aria-keyshortcuts="Enter"
        title={ready ? "Submit (Enter)" : missingText(work)}
        onClick={flow.submit}
      >
        Submit
      </button>
    </div>
  );

  return (
    <main
      id="main"
      className={`annotate mode-${mode} k-${k}`}
      data-assignment-id={assignment.id}
      aria-labelledby="task-title"
    >
      <div className="task-grid">
        {/* The head lives in the main column, so the side column starts at the top of the page
            and fits the window from the first screen on (its Submit bar in sight). */}
        <div className="task-main">
          <div className="task-head">
            <div>
              <h1 id="task-title">{assignment.campaign.name}</h1>
              <p className="muted">
                Task {assignment.id} · {mode === "pairwise" ? "compare two responses" : `rank ${k} responses`} ·{" "}
                <button type="button" className="link-button" onClick={() => props.setHelpOpen(true)}>
                  Keyboard shortcuts (?)
                </button>
              </p>
            </div>
            <Progress stats={flow.stats} startedAt={work.startedAt} />
          </div>

          <div className="notices">
            {flow.notice && (
              <p className={`notice ${flow.notice.tone}`} role={flow.notice.tone === "error" ? "alert" : "status"} data-testid="notice">
                {flow.notice.text}
              </p>
            )}
            {pending && (
              <p className="notice warning" role="status" data-testid="pending">
                {pending.lastError
                  ? `Not sent yet: ${pending.lastError}. Your judgment is kept on this device and is sent again automatically (attempt ${pending.attempts}).`
                  : "Sending your judgment…"}{" "}
                {pending.lastError && (
                  <button type="button" className="link-button" onClick={flow.retryNow}>
                    Try now
                  </button>
                )}
              </p>
            )}
            <LeaseNotice expiresAt={assignment.expires_at} />
          </div>
          {!props.wide && guidelines}
          <Conversation messages={assignment.conversation} />
          <section className="responses-section" aria-labelledby="responses-title">
            <h2 id="responses-title">Responses</h2>
            <div className={`responses k${k === 2 ? "2" : "n"}`}>
              {assignment.responses.map((response, index) => (
                <ResponseCard
                  key={response.label}
                  ref={(element) => {
                    cards.current[response.label] = element;
                  }}
                  label={response.label}
                  text={response.text}
                  mode={mode}
                  k={k}
                  rank={rankOf(board.ranking, response.label)}
                  rankText={describeRank(board.ranking, response.label)}
                  focused={mode === "rank" && board.focus === index}
                  locked={locked}
                  onFocus={() => {
                    if (board.focus !== index) flow.update((w) => ({ ...w, board: { ...w.board, focus: index } }));
                  }}
                  onRank={(rank) => setRanking((r) => setRank(r, response.label, rank))}
                  onTie={() => setRanking((r) => tieWithAbove(r, response.label))}
                  flagChoices={assignment.response_flags}
                  flags={work.responseFlags[response.label] ?? []}
                  onFlag={(flag, on) => flow.update((w) => ({ ...w, responseFlags: toggledFlag(w.responseFlags, response.label, flag, on) }))}
                />
              ))}
            </div>
          </section>
          {mode === "pairwise" && judging}
        </div>

        <div className="task-side">
          {mode === "rank" && judging}
          <section className="panel" aria-labelledby="flags-title">
            <h2 id="flags-title">Flags and rationale</h2>
            <fieldset className="flags" disabled={locked}>
              <legend className="visually-hidden">Flags on the whole set (optional)</legend>
              {assignment.flags.map((flag) => (
                <label key={flag} className="check">
                  <input
                    type="checkbox"
                    name="flags"
                    value={flag}
                    checked={work.flags.includes(flag)}
                    onChange={(event) => {
                      const on = event.target.checked;
                      flow.update((w) => ({
                        ...w,
                        flags: on ? [...w.flags, flag] : w.flags.filter((f) => f !== flag),
                      }));
                    }}
                  />
                  {flagText(flag)}
                </label>
              ))}
            </fieldset>
            <p className="field-hint">Unsafe or factually wrong? Flag that response on its own card.</p>
            <label htmlFor="rationale">Rationale (optional)</label>
            <textarea
              id="rationale"
              className="input"
              rows={3}
              maxLength={10000}
              disabled={locked}
              value={work.rationale}
              placeholder="Why this order? One line helps reviewers."
              onChange={(event) => {
                const rationale = event.target.value;
                flow.update((w) => ({ ...w, rationale }));
              }}
            />
          </section>
          {props.wide && guidelines}
          {props.wide && actions}
        </div>
      </div>

      {!props.wide && actions}

      <KeyHelpDialog open={props.helpOpen} keys={keyHelp(mode, k)} onClose={() => props.setHelpOpen(false)} />
      <SkipDialog
        open={props.skipOpen}
        onClose={() => props.setSkipOpen(false)}
        onSkip={(reason) => {
          props.setSkipOpen(false);
          void flow.skip(reason);
        }}
      />
    </main>
  );
}
