/** The judgment flags as people read them (the server's FLAG_CHOICES). */
export const FLAG_TEXT: Record<string, string> = {
  unsafe: "Unsafe",
  all_bad: "All responses are bad",
  factually_wrong: "Factually wrong",
  other: "Other problem",
};

export function flagText(flag: string): string {
  return FLAG_TEXT[flag] ?? flag;
}
