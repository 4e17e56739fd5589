import { describe, expect, it } from "vitest";
import { flagText, toggledFlag } from "./flags";

describe("toggledFlag", () => {
  it("adds a flag to a response once and keeps the others", () => {
    const once = toggledFlag({ A: ["factually_wrong"] }, "B", "unsafe", true);
    expect(once).toEqual({ A: ["factually_wrong"], B: ["unsafe"] });
    expect(toggledFlag(once, "B", "unsafe", true)).toEqual(once);
  });

  it("drops a response left without flags and leaves the input alone", () => {
    const before = { B: ["unsafe"] };
    expect(toggledFlag(before, "B", "unsafe", false)).toEqual({});
    expect(before).toEqual({ B: ["unsafe"] });
  });
});

describe("flagText", () => {
  it("reads the server's names and passes unknown ones through", () => {
    expect(flagText("factually_wrong")).toBe("Factually wrong");
    expect(flagText("new_flag")).toBe("new_flag");
  });
});
