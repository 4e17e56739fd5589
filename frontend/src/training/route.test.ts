import { describe, expect, it } from "vitest";
import { hashOf, parsePlace } from "./route";

describe("parsePlace", () => {
  it("reads each kind of place", () => {
    expect(parsePlace("#runs/12")).toEqual({ section: "runs", runId: 12, versionId: null, compare: null, campaignId: null });
    expect(parsePlace("#versions/compare/3/5").compare).toEqual([3, 5]);
    expect(parsePlace("#versions/7").versionId).toBe(7);
    expect(parsePlace("#campaigns/4").campaignId).toBe(4);
    expect(parsePlace("#new").section).toBe("new");
  });

  it("falls back to the run list for anything else", () => {
    expect(parsePlace("")).toEqual({ section: "runs", runId: null, versionId: null, compare: null, campaignId: null });
    expect(parsePlace("#nope/3").section).toBe("runs");
    expect(parsePlace("#runs/abc").runId).toBeNull();
    expect(parsePlace("#runs/0").runId).toBeNull();
    expect(parsePlace("#versions/compare/3").compare).toBeNull();
  });
});

describe("hashOf", () => {
  it("writes what parsePlace reads", () => {
    for (const hash of ["#runs", "#runs/12", "#new", "#versions", "#versions/7", "#versions/compare/3/5", "#campaigns/4"]) {
      expect(hashOf(parsePlace(hash))).toBe(hash);
    }
  });
});
