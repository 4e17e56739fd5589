import { describe, expect, it } from "vitest";
import type { Campaign } from "./api";
import { campaignFromHash, defaultCampaign, hashWithCampaign, sectionOfHash } from "./campaignChoice";

describe("the campaign in the hash", () => {
  it("reads the section and the campaign id", () => {
    expect(sectionOfHash("#quality/3")).toBe("quality");
    expect(sectionOfHash("#raters")).toBe("raters");
    expect(campaignFromHash("#quality/3")).toBe(3);
    expect(campaignFromHash("#quality")).toBeNull();
    expect(campaignFromHash("#quality/x")).toBeNull();
    expect(campaignFromHash("")).toBeNull();
  });

  it("writes the campaign after the section, or takes it away", () => {
    expect(hashWithCampaign("#quality/3", 5)).toBe("#quality/5");
    expect(hashWithCampaign("#gold", 2)).toBe("#gold/2");
    expect(hashWithCampaign("#gold/2", null)).toBe("#gold");
  });
});

describe("defaultCampaign", () => {
  it("picks the campaign with the most judgments, the first of equals", () => {
    const make = (id: number, judgment_count: number) => ({ id, judgment_count }) as Campaign;
    expect(defaultCampaign([make(1, 5), make(2, 9), make(3, 9)])?.id).toBe(2);
    expect(defaultCampaign([])).toBeNull();
  });
});
