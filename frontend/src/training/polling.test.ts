import { describe, expect, it } from "vitest";
import { isActive, shouldPoll } from "./polling";

describe("shouldPoll", () => {
  it("polls while a run is queued or running and the tab is visible", () => {
    expect(shouldPoll([{ status: "succeeded" }, { status: "running" }], false)).toBe(true);
    expect(shouldPoll([{ status: "queued" }], false)).toBe(true);
  });

  it("stops when every run has finished, or there are none", () => {
    expect(shouldPoll([{ status: "succeeded" }, { status: "failed" }, { status: "cancelled" }], false)).toBe(false);
    expect(shouldPoll([], false)).toBe(false);
  });

  it("pauses while the tab is hidden", () => {
    expect(shouldPoll([{ status: "running" }], true)).toBe(false);
  });
});

describe("isActive", () => {
  it("is true only for runs that can still change", () => {
    expect(["queued", "running", "succeeded", "failed", "cancelled"].map((s) => isActive(s as never))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
