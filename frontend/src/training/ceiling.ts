/** The reward model's validation accuracy against its ceiling: how often the raters agree. */

import type { Ceiling } from "./types";

export interface CeilingReading {
  /** Both as percentages, null when unknown. */
  humanPercent: number | null;
  modelPercent: number | null;
  /** The model's accuracy as a share of the raters' agreement (1 = at the ceiling). */
  ofCeiling: number | null;
  sentence: string;
}

function pct(value: number): string {
  return `${Math.round(value * 10) / 10} %`;
}

export function readCeiling(ceiling: Ceiling): CeilingReading {
  const share = ceiling.human_agreement.percent;
  const humanPercent = share === null ? null : share * 100;
  const accuracy = ceiling.reward_model.val_accuracy;
  const modelPercent = accuracy === null ? null : accuracy * 100;
  const ofCeiling = humanPercent && modelPercent !== null ? modelPercent / humanPercent : null;
  const why =
    "Raters disagree on some pairs, so no reward model can be expected to predict held-out human preferences more often than the raters agree with each other: their agreement is the ceiling.";
  let sentence: string;
  if (humanPercent === null && modelPercent === null) sentence = `Not enough data yet: no rater agreement and no trained reward model. ${why}`;
  else if (humanPercent === null) sentence = `The reward model is right on ${pct(modelPercent as number)} of held-out pairs; rater agreement is not known yet (too few overlapping judgments). ${why}`;
  else if (modelPercent === null) sentence = `Raters agree on ${pct(humanPercent)} of pairs (${ceiling.human_agreement.n} compared); no reward model has been trained on this campaign yet. ${why}`;
  else {
    const verdict =
      modelPercent >= humanPercent
        ? "It is at the ceiling: more of the same data is unlikely to help; look for better or more varied judgments."
        : modelPercent >= humanPercent * 0.9
          ? "It is close to the ceiling."
          : "There is room left: more judgments or more training may help.";
    sentence = `The reward model is right on ${pct(modelPercent)} of held-out pairs; raters agree with each other on ${pct(humanPercent)} (${ceiling.human_agreement.n} compared). ${verdict} ${why}`;
  }
  return { humanPercent, modelPercent, ofCeiling, sentence };
}
