/** The arena leaderboard in words and chart rows: pure functions over the API's boards. */

import type { IntervalItem } from "../charts/IntervalChart";
import type { components } from "../api/schema";

export type Arena = components["schemas"]["Arena"];
export type ArenaBoard = components["schemas"]["ArenaBoard"];
export type ArenaStanding = components["schemas"]["ArenaStanding"];

/** A score with its sign: "+0.42", "-0.13", "0.00". */
export function formatScore(score: number): string {
  const rounded = Math.round(score * 100) / 100;
  if (rounded === 0) return "0.00";
  return `${rounded > 0 ? "+" : "-"}${Math.abs(rounded).toFixed(2)}`;
}

/** "-0.21 to +0.55", or "not known yet" before any comparison. */
export function intervalText(standing: Pick<ArenaStanding, "low" | "high">): string {
  if (standing.low === null || standing.high === null) return "not known yet";
  return `${formatScore(standing.low)} to ${formatScore(standing.high)}`;
}

/** A probability as a whole percent: 0.473 → "47%". */
export function percentText(probability: number): string {
  return `${Math.round(probability * 100)}%`;
}

/** The chart's rows, best first; a model with no interval yet is drawn as its point alone. */
export function chartItems(board: ArenaBoard): IntervalItem[] {
  return board.standings.map((standing) => ({
    id: standing.model,
    label: standing.model,
    value: standing.score,
    low: standing.low ?? standing.score,
    high: standing.high ?? standing.score,
    note: `${standing.comparisons.toLocaleString("en")} ${standing.comparisons === 1 ? "comparison" : "comparisons"}${
      standing.low === null ? ", no interval yet" : ""
    }`,
  }));
}

/** "20 tasks", "1 task". */
function tasksText(tasks: number): string {
  return `${tasks.toLocaleString("en")} ${tasks === 1 ? "task" : "tasks"}`;
}

/** Who leads, and whether the lead is clear yet. */
export function leaderSentence(board: ArenaBoard, minTasks: number): string {
  const leader = board.standings[0];
  const count = board.comparisons.toLocaleString("en");
  const noun = board.comparisons === 1 ? "comparison" : "comparisons";
  if (!leader || board.comparisons === 0) {
    return `No comparisons yet: every model scores 0 until raters judge the arena's tasks. A leader can be called once ${tasksText(minTasks)} have been judged.`;
  }
  if (board.top_separated) {
    const how = board.resamples > 0 ? "it beats each in at least 97.5% of the resamples" : "its lead over each has a 95% interval above 0";
    return `${count} ${noun}. ${leader.model} leads, clearly ahead of every other model (${how}).`;
  }
  const short = board.tasks < minTasks;
  return `${count} ${noun}. ${leader.model} leads, but not clearly yet: ${
    short
      ? `a leader is called only once ${tasksText(minTasks)} have been judged (${tasksText(board.tasks)} so far; a task's raters count once).`
      : "its lead over another model is still within the noise."
  }`;
}

/** What the length-controlled fit found about answer length. */
export function lengthSentence(board: ArenaBoard): string {
  const coefficient = board.length_coefficient;
  if (coefficient === null) return "No length effect measured yet.";
  const rounded = Math.round(coefficient * 100) / 100;
  const direction =
    rounded === 0 ? "answer length makes no difference" : rounded > 0 ? "raters favour the longer answer" : "raters favour the shorter answer";
  return `Length coefficient ${formatScore(coefficient)} log-odds per unit of log length ratio: ${direction}. These scores take it out.`;
}

/** "model-a against model-b", the pair the next new task compares. */
export function nextPairText(pair: readonly string[]): string {
  return pair.length === 2 ? `${pair[0]} against ${pair[1]}` : "none";
}

/** Where the intervals come from: resampled tasks, or (for a large arena) the fit itself. */
export function intervalSourceText(board: Pick<ArenaBoard, "resamples" | "comparisons">): string {
  if (board.comparisons === 0) {
    return "Each model gets a 95% interval once raters have judged some of the arena's tasks.";
  }
  if (board.resamples > 0) {
    return `Each interval comes from refitting on ${board.resamples.toLocaleString("en")} resamples of the tasks (a task's raters stay together: they judged the same two answers).`;
  }
  return "Each interval comes from the fit's own curvature, widened for tasks that several raters judged: with this many comparisons, refitting on resamples would take too long and would say the same.";
}
