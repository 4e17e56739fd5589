/** The flags as people read them (the server's FLAG_CHOICES and RESPONSE_FLAG_CHOICES). */
export const FLAG_TEXT: Record<string, string> = {
  unsafe: "Unsafe",
  all_bad: "All responses are bad",
  factually_wrong: "Factually wrong",
  other: "Other problem",
};

export function flagText(flag: string): string {
  return FLAG_TEXT[flag] ?? flag;
}

/** Per-response flags with `flag` turned on or off for `label`; a label left with none is dropped,
 * so what is sent names only flagged responses. */
export function toggledFlag(all: Record<string, string[]>, label: string, flag: string, on: boolean): Record<string, string[]> {
  const rest = (all[label] ?? []).filter((f) => f !== flag);
  const next = on ? [...rest, flag] : rest;
  const copy = { ...all };
  if (next.length) copy[label] = next;
  else delete copy[label];
  return copy;
}
