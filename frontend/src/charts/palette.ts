/** Series colours: distinct from each other and at least 4.5:1 on white. */
export const PALETTE = ["#1d4ed8", "#b45309", "#047857", "#7e22ce", "#be123c", "#0e7490"];

export const FLAGGED_COLOR = "#a40e26";

export function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length];
}
