/**
 * Keyboard-first ranking: which key does what, and what a command does to the board.
 * Pure, so every key sequence can be tested (and counted) without a browser.
 */

import { pairScale, type PairChoice } from "./pairwise";
import {
  isComplete,
  move,
  rankOf,
  setRank,
  tieWithAbove,
  unrankedOf,
  type Ranking,
} from "./ranking";

export type Mode = "rank" | "pairwise";

export type Command =
  | { kind: "rank"; rank: number }
  | { kind: "unrank" }
  | { kind: "tie" }
  | { kind: "focus"; delta: -1 | 1 }
  | { kind: "move"; delta: -1 | 1 }
  | { kind: "choose"; index: number }
  | { kind: "submit" }
  | { kind: "help" }
  | { kind: "guidelines" };

export interface KeyInput {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

export interface KeyHelp {
  keys: string;
  does: string;
}

/** What the `?` overlay lists, per mode. */
export function keyHelp(mode: Mode, k: number): KeyHelp[] {
  const common = [
    { keys: "Enter", does: "submit" },
    { keys: "g", does: "show or hide the guidelines" },
    { keys: "?", does: "show or hide this list" },
    { keys: "Esc", does: "close a dialog" },
  ];
  if (mode === "pairwise") {
    return [
      { keys: "1 … 7", does: "pick a point on the scale, from A much better (1) to B much better (7)" },
      { keys: "4", does: "about the same" },
      ...common,
    ];
  }
  return [
    { keys: `1 … ${Math.min(k, 9)}`, does: "give the focused response that rank (the same number twice is a tie)" },
    { keys: "=  or  t", does: "tie the focused response with the one ranked just above it" },
    { keys: "0  or  Backspace", does: "clear the focused response's rank" },
    { keys: "↑ ↓  (or ← →, j k)", does: "focus the previous or next response" },
    { keys: "Shift + ↑ ↓", does: "move the focused response up or down the ranking" },
    ...common,
  ];
}

export function commandFor(input: KeyInput, mode: Mode, k: number): Command | null {
  if (input.ctrlKey || input.metaKey || input.altKey) return null;
  const { key } = input;
  if (key === "Enter") return { kind: "submit" };
  if (key === "?") return { kind: "help" };
  if (key === "g" || key === "G") return { kind: "guidelines" };
  const digit = /^[0-9]$/.test(key) ? Number(key) : null;
  if (mode === "pairwise") {
    return digit !== null && digit >= 1 && digit <= 7 ? { kind: "choose", index: digit - 1 } : null;
  }
  if (digit !== null && digit >= 1 && digit <= Math.min(k, 9)) return { kind: "rank", rank: digit };
  if (digit === 0 || key === "Backspace" || key === "Delete") return { kind: "unrank" };
  if (key === "=" || key === "t" || key === "T") return { kind: "tie" };
  const up = key === "ArrowUp" || key === "ArrowLeft" || key === "k";
  const down = key === "ArrowDown" || key === "ArrowRight" || key === "j";
  if (!up && !down) return null;
  const delta = up ? -1 : 1;
  const vertical = key === "ArrowUp" || key === "ArrowDown";
  if (input.shiftKey && vertical) return { kind: "move", delta };
  return { kind: "focus", delta };
}

export interface Board {
  readonly ranking: Ranking;
  /** Index (in display order) of the response keys act on. */
  readonly focus: number;
  /** Pairwise campaigns: the point picked on the scale. */
  readonly choice: PairChoice | null;
}

export type Effect = "submit" | "help" | "guidelines" | null;

export interface Step {
  board: Board;
  effect: Effect;
}

/** After ranking a response, focus the next unranked one (display order, wrapping). */
function nextUnranked(ranking: Ranking, from: number): number {
  const open = new Set(unrankedOf(ranking));
  const n = ranking.labels.length;
  for (let step = 1; step <= n; step += 1) {
    const index = (from + step) % n;
    if (open.has(ranking.labels[index])) return index;
  }
  return from;
}

function rankAndAdvance(board: Board, ranking: Ranking): Board {
  return { ...board, ranking, focus: nextUnranked(ranking, board.focus) };
}

export function applyCommand(board: Board, command: Command): Step {
  const { ranking, focus } = board;
  const label = ranking.labels[focus];
  const step = (next: Board, effect: Effect = null): Step => ({ board: next, effect });
  switch (command.kind) {
    case "rank":
      return step(rankAndAdvance(board, setRank(ranking, label, command.rank)));
    case "tie": {
      const tied = tieWithAbove(ranking, label);
      return step(rankOf(ranking, label) === null ? rankAndAdvance(board, tied) : { ...board, ranking: tied });
    }
    case "unrank":
      return step({ ...board, ranking: setRank(ranking, label, null) });
    case "focus": {
      const next = Math.min(Math.max(focus + command.delta, 0), ranking.labels.length - 1);
      return step({ ...board, focus: next });
    }
    case "move":
      return step({ ...board, ranking: move(ranking, label, command.delta) });
    case "choose": {
      const [first, second] = ranking.labels;
      const point = pairScale(first, second)[command.index];
      return step(point ? { ...board, choice: { winner: point.winner, strength: point.strength } } : board);
    }
    case "submit":
      return step(board, "submit");
    case "help":
      return step(board, "help");
    case "guidelines":
      return step(board, "guidelines");
  }
}

/** Whether the board can be submitted in this mode. */
export function isReady(board: Board, mode: Mode): boolean {
  return mode === "pairwise" ? board.choice !== null : isComplete(board.ranking);
}

/** Press keys in order, as the page does: the board after them and the effects seen. */
export function pressKeys(start: Board, keys: (string | KeyInput)[], mode: Mode = "rank"): { board: Board; effects: Effect[] } {
  let board = start;
  const effects: Effect[] = [];
  for (const key of keys) {
    const command = commandFor(typeof key === "string" ? { key } : key, mode, board.ranking.labels.length);
    if (!command) continue;
    const step = applyCommand(board, command);
    board = step.board;
    if (step.effect) effects.push(step.effect);
  }
  return { board, effects };
}
