import { useEffect, useRef, useState } from "react";
import type { Label, Ranking } from "../ranking/ranking";
import { consoleApi, type AdminTask } from "./api";
import {
  canMove,
  describeOrder,
  goldPayload,
  idsByLabel,
  isTiedWithAbove,
  labelsFor,
  moveResponse,
  orderedLabels,
  placeOf,
  startRanking,
  toggleTie,
} from "./goldTiers";
import { ErrorNotice, revealOnMount } from "../shared/ui";

type Action = "up" | "down" | "tie";

interface Props {
  task: AdminTask;
  onCancel: () => void;
  onSaved: (task: AdminTask, order: string) => void;
}

/** Orders a task's responses into tiers, best first, with buttons (so the keyboard does it
 * all): move up, move down, tie with the one above. Saves the gold ranking with PUT. */
export function GoldEditor({ task, onCancel, onSaved }: Props) {
  const [ranking, setRanking] = useState<Ranking>(() => startRanking(task.responses, task.gold_ranking));
  const [announcement, setAnnouncement] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [expanded, setExpanded] = useState<Set<Label>>(new Set());
  const focusAfter = useRef<{ label: Label; action: Action } | null>(null);
  const list = useRef<HTMLOListElement>(null);
  const labels = labelsFor(task.responses);
  const byLabel = new Map(task.responses.map((response, index) => [labels[index], response]));
  const order = orderedLabels(ranking);
  const titleId = `gold-editor-${task.id}`;

  // A moved response's button keeps the focus; at an end, its other move button takes it.
  useEffect(() => {
    const wanted = focusAfter.current;
    if (!wanted || !list.current) return;
    focusAfter.current = null;
    const item = list.current.querySelector(`[data-label="${wanted.label}"]`);
    const button =
      item?.querySelector<HTMLButtonElement>(`[data-action="${wanted.action}"]:not(:disabled)`) ??
      item?.querySelector<HTMLButtonElement>("button:not(:disabled)");
    button?.focus();
  }, [ranking]);

  function apply(label: Label, action: Action, next: Ranking) {
    if (next === ranking) return;
    focusAfter.current = { label, action };
    setRanking(next);
    setAnnouncement(`Response ${label} is now ${placeOf(next, label)}. Order: ${describeOrder(next)}.`);
  }

  async function save() {
    setBusy(true);
    setError(null);
    try {
      const updated = await consoleApi.markGold(task.id, goldPayload(ranking, idsByLabel(task.responses)));
      onSaved(updated, describeOrder(ranking));
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <div className="gold-editor" role="group" aria-labelledby={titleId} ref={revealOnMount}>
      <h4 id={titleId}>Gold ranking for task {task.id}</h4>
      <p className="field-hint">
        Put the responses in order, best first. “Tie with above” puts a response in the same tier as the one above it; press it
        again to untie.
      </p>
      <ol className="tier-list" ref={list}>
        {order.map((label, index) => {
          const response = byLabel.get(label);
          const tied = isTiedWithAbove(ranking, label);
          const open = expanded.has(label);
          return (
            <li key={label} className={`tier-item${tied ? " is-tied" : ""}`} data-label={label}>
              <span className="tier-place">{placeOf(ranking, label)}</span>
              <div className="tier-body">
                <p className="tier-title">
                  <b>Response {label}</b>
                  {response?.generator && <span className="muted"> · {response.generator}</span>}
                </p>
                <p className={`tier-text${open ? " is-open" : ""}`}>{response?.text}</p>
                {(response?.text.length ?? 0) > 280 && (
                  <button
                    type="button"
                    className="link-button"
                    aria-expanded={open}
                    onClick={() =>
                      setExpanded((current) => {
                        const next = new Set(current);
                        if (open) next.delete(label);
                        else next.add(label);
                        return next;
                      })
                    }
                  >
                    {open ? "Show less" : "Show all"}
                    <span className="visually-hidden"> of response {label}</span>
                  </button>
                )}
              </div>
              <div className="tier-actions">
                <button
                  type="button"
                  className="button small"
                  data-action="up"
                  aria-label={`Up: response ${label}`}
                  disabled={!canMove(ranking, label, -1)}
                  onClick={() => apply(label, "up", moveResponse(ranking, label, -1))}
                >
                  <span aria-hidden="true">↑ </span>Up
                </button>
                <button
                  type="button"
                  className="button small"
                  data-action="down"
                  aria-label={`Down: response ${label}`}
                  disabled={!canMove(ranking, label, 1)}
                  onClick={() => apply(label, "down", moveResponse(ranking, label, 1))}
                >
                  <span aria-hidden="true">↓ </span>Down
                </button>
                <button
                  type="button"
                  className="button small"
                  data-action="tie"
                  aria-label={`Tie with above: response ${label}`}
                  aria-pressed={tied}
                  disabled={index === 0}
                  onClick={() => apply(label, "tie", toggleTie(ranking, label))}
                >
                  Tie with above
                </button>
              </div>
            </li>
          );
        })}
      </ol>
      <p className="visually-hidden" role="status">
        {announcement}
      </p>
      <p className="gold-order">
        <b>Order:</b> {describeOrder(ranking)}
      </p>
      <ErrorNotice error={error} />
      <div className="form-actions">
        <span className="spacer" />
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button primary" disabled={busy} onClick={save}>
          {busy ? "Saving…" : "Save gold ranking"}
        </button>
      </div>
    </div>
  );
}
