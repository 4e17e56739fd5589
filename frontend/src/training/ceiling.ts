/** The reward model's held-out accuracy against its ceiling: how often a rater's
 * decided verdict matches the other raters' decided majority (leave-one-out, ties left out),
 * each with its 95 % interval. The server says above / at / below only as far as the intervals
 * allow; this only puts it into words. */

import type { Ceiling } from "./types";

export interface CeilingReading {
  /** Both as percentages, null when unknown. */
  humanPercent: number | null;
  modelPercent: number | null;
  /** "61.2–88.0 %" for each, null when unknown. */
  humanInterval: string | null;
  modelInterval: string | null;
  sentence: string;
}

function pct(value: number): string {
  return `${Math.round(value * 1000) / 10} %`;
}

function interval(low: number | null, high: number | null): string | null {
  return low === null || high === null ? null : `${Math.round(low * 1000) / 10}–${pct(high)}`;
}

const WHY =
  "People disagree on some pairs, so a reward model cannot be expected to predict a held-out rater better than raters predict each other: that agreement is its ceiling.";

const VERDICTS: Record<Ceiling["verdict"], string> = {
  above:
    "It is above that figure, beyond both intervals. That can be real (it is scored against the whole panel's consensus, which is less noisy than one rater), but check that its held-out pairs are of prompts it never saw.",
  at: "The intervals overlap, so no difference can be claimed either way: it may be at the ceiling, or more held-out data may separate the two.",
  below: "It is below the ceiling, beyond both intervals: more judgments or more training may help.",
  unknown: "",
};

export function readCeiling(ceiling: Ceiling): CeilingReading {
  const human = ceiling.human_agreement;
  const model = ceiling.reward_model;
  const humanPercent = human.consensus === null ? null : human.consensus * 100;
  const modelPercent = model.val_accuracy === null ? null : model.val_accuracy * 100;
  const humanInterval = interval(human.consensus_ci_low, human.consensus_ci_high);
  const modelInterval = interval(model.val_ci_low, model.val_ci_high);
  const humanText =
    human.consensus === null
      ? null
      : `a rater agrees with the others' majority on ${pct(human.consensus)} of decided pairs${humanInterval ? ` (95 % interval ${humanInterval})` : ""}, over ${human.consensus_n} ratings`;
  const modelText =
    model.val_accuracy === null
      ? null
      : `the reward model is right on ${pct(model.val_accuracy)} of held-out pairs${modelInterval ? ` (95 % interval ${modelInterval})` : ""}`;
  let sentence: string;
  if (!humanText && !modelText) sentence = `Not enough data yet: no rater agreement and no trained reward model. ${WHY}`;
  else if (!humanText) sentence = `${capital(modelText as string)}; rater agreement is not known yet (too few pairs judged by two or more raters). ${WHY}`;
  else if (!modelText) sentence = `${capital(humanText)}; no reward model has been trained on this campaign yet. ${WHY}`;
  else {
    const verdict = VERDICTS[ceiling.verdict] || "Its figures have no interval yet, so no comparison is claimed.";
    sentence = `${capital(modelText)}; ${humanText}. ${verdict} ${WHY}`;
  }
  return { humanPercent, modelPercent, humanInterval, modelInterval, sentence };
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
