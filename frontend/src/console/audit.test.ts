import { describe, expect, it } from "vitest";
import { describeDetails, describeTarget, pageWindow } from "./audit";

describe("describeDetails", () => {
  it("writes an event's details as key: value pairs", () => {
    expect(describeDetails({ reason: "too fast", fields: ["overlap", "status"] })).toBe('reason: too fast; fields: ["overlap","status"]');
    expect(describeDetails({})).toBe("");
    expect(describeDetails(null)).toBe("");
  });
});

describe("describeTarget", () => {
  it("names the target type and id", () => {
    expect(describeTarget({ target_type: "campaign", target_id: "4" })).toBe("campaign #4");
    expect(describeTarget({ target_type: "system", target_id: "" })).toBe("system");
  });
});

describe("pageWindow", () => {
  it("says which rows are shown and whether there are more", () => {
    expect(pageWindow(0, 25, 60)).toEqual({ first: 1, last: 25, hasPrevious: false, hasNext: true, text: "1–25 of 60" });
    expect(pageWindow(50, 10, 60)).toEqual({ first: 51, last: 60, hasPrevious: true, hasNext: false, text: "51–60 of 60" });
    expect(pageWindow(0, 0, 0).text).toBe("No events");
  });
});
