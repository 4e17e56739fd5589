import { describe, expect, it } from "vitest";
import { durationBetween, formatEta, formatValue, percentOf, progressText, shortHash } from "./format";

describe("formatEta", () => {
  it.each([
    [0.4, "under 1 s"],
    [45, "45 s"],
    [59.6, "1 min 0 s"],
    [200, "3 min 20 s"],
    [599, "9 min 59 s"],
    [600, "10 min"],
    [3599, "1 h 00 min"],
    [3000, "50 min"],
    [3600, "1 h 00 min"],
    [2 * 3600 + 5 * 60 + 10, "2 h 05 min"],
    [26 * 3600, "1 d 2 h"],
  ])("reads %s s as %s", (seconds, text) => {
    expect(formatEta(seconds)).toBe(text);
  });

  it("is null when the time left is unknown or nonsense", () => {
    expect(formatEta(null)).toBeNull();
    expect(formatEta(undefined)).toBeNull();
    expect(formatEta(Number.NaN)).toBeNull();
    expect(formatEta(-5)).toBeNull();
    expect(formatEta(Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe("percentOf", () => {
  it("rounds down and clamps", () => {
    expect(percentOf(0)).toBe(0);
    expect(percentOf(0.999)).toBe(99);
    expect(percentOf(0.29)).toBe(29);
    expect(percentOf(1)).toBe(100);
    expect(percentOf(1.5)).toBe(100);
    expect(percentOf(-0.2)).toBe(0);
    expect(percentOf(Number.NaN)).toBe(0);
  });
});

describe("progressText", () => {
  const run = { status: "running" as const, step: 40, total_steps: 200, eta_s: 200, cancel_requested: false };

  it("says the step and the time left while running", () => {
    expect(progressText(run)).toBe("Step 40 of 200 · 3 min 20 s left");
    expect(progressText({ ...run, eta_s: null })).toBe("Step 40 of 200 · estimating time left");
  });

  it("says when the estimate has run out and the run is still busy", () => {
    expect(progressText({ ...run, eta_s: 0 })).toBe("Step 40 of 200 · this step is taking longer than estimated");
    expect(progressText({ ...run, step: 200, eta_s: 0 })).toBe("Step 200 of 200 · finishing up");
  });

  it("says a queued run waits, a stopping run stops, a finished run where it ended", () => {
    expect(progressText({ ...run, status: "queued", step: 0 })).toBe("Waiting for a GPU worker");
    expect(progressText({ ...run, cancel_requested: true })).toBe("Step 40 of 200 · stopping");
    expect(progressText({ ...run, status: "failed", total_steps: 0 })).toBe("Step 40");
  });
});

describe("durationBetween", () => {
  it("is the time between two timestamps", () => {
    expect(durationBetween("2025-03-01T10:00:00Z", "2025-03-01T10:04:10Z")).toBe("4 min 10 s");
    expect(durationBetween(null, "2025-03-01T10:04:10Z")).toBeNull();
    expect(durationBetween("2025-03-01T10:05:00Z", "2025-03-01T10:04:10Z")).toBeNull();
  });
});

describe("formatValue and shortHash", () => {
  it("keeps four significant digits", () => {
    expect(formatValue(0.123456)).toBe("0.1235");
    expect(formatValue(1234.5678)).toBe("1235");
    expect(formatValue(0.00001234)).toBe("1.23e-5");
    expect(formatValue(0)).toBe("0");
    expect(formatValue(null)).toBe("–");
  });

  it("shortens a hash to 12 characters", () => {
    expect(shortHash("a".repeat(64))).toBe("a".repeat(12));
    expect(shortHash("")).toBe("–");
  });
});
