import { describe, expect, it } from "vitest";
import {
  bandPath,
  DAY,
  extent,
  formatDateTime,
  formatNumber,
  linePath,
  linearScale,
  nearestIndex,
  niceStep,
  niceTicks,
  timeTicks,
} from "./scale";

describe("linearScale", () => {
  it("maps the domain onto the range, inverted ranges included", () => {
    const y = linearScale([0, 10], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(10)).toBe(0);
    expect(y(2.5)).toBe(150);
  });

  it("maps a zero-width domain to the middle of the range", () => {
    expect(linearScale([3, 3], [0, 100])(3)).toBe(50);
  });
});

describe("extent", () => {
  it("skips non-finite values and is null when nothing is left", () => {
    expect(extent([3, NaN, -1, Infinity, 7])).toEqual([-1, 7]);
    expect(extent([NaN])).toBeNull();
  });
});

describe("niceStep and niceTicks", () => {
  it("picks 1, 2 or 5 times a power of ten", () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(1, 5)).toBe(0.2);
    expect(niceStep(37, 5)).toBe(10);
    expect(niceStep(0.07, 5)).toBeCloseTo(0.02);
  });

  it("widens the domain to whole steps and lists every tick", () => {
    expect(niceTicks(0.13, 0.87, 5)).toEqual({ domain: [0, 1], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    expect(niceTicks(3, 97, 5)).toEqual({ domain: [0, 100], ticks: [0, 20, 40, 60, 80, 100], step: 20 });
  });

  it("has no float noise in tick values", () => {
    const { ticks } = niceTicks(0, 0.3, 3);
    expect(ticks).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it("pads a single value so the axis has a span", () => {
    expect(niceTicks(5, 5, 4).ticks).toEqual([4.5, 5, 5.5]);
    expect(niceTicks(0, 0, 2).domain).toEqual([-1, 1]);
  });

  it("handles negative ranges and swapped ends", () => {
    expect(niceTicks(4, -4, 4)).toEqual({ domain: [-4, 4], ticks: [-4, -2, 0, 2, 4], step: 2 });
  });
});

describe("timeTicks", () => {
  it("puts daily ticks on local midnights inside the range", () => {
    const start = new Date(2025, 0, 1, 15).getTime();
    const end = new Date(2025, 0, 5, 9).getTime();
    const { ticks, step } = timeTicks(start, end, 4);
    expect(step).toBe(DAY);
    expect(ticks.map((t) => new Date(t).getDate())).toEqual([2, 3, 4, 5]);
    expect(ticks.every((t) => new Date(t).getHours() === 0)).toBe(true);
  });

  it("uses hour steps for a day's span, on whole local hours", () => {
    const start = new Date(2025, 0, 1, 0, 10).getTime();
    const end = new Date(2025, 0, 1, 23, 0).getTime();
    const { ticks, step } = timeTicks(start, end, 5);
    expect(step).toBe(6 * 3600 * 1000);
    expect(ticks.map((t) => new Date(t).getHours())).toEqual([6, 12, 18]);
  });
});

describe("formatNumber", () => {
  it("shows as many decimals as the step needs", () => {
    expect(formatNumber(0.5, 0.1)).toBe("0.5");
    expect(formatNumber(0.25, 0.05)).toBe("0.25");
    expect(formatNumber(1200, 200)).toBe("1,200");
    expect(formatNumber(NaN)).toBe("–");
  });

  it("keeps a tiny value's digits in a tooltip (a learning rate is not 0)", () => {
    expect(formatNumber(0.00001)).toBe("1e-5");
    expect(formatNumber(0.000015)).toBe("1.5e-5");
    expect(formatNumber(-0.0002)).toBe("-2e-4");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(0.0123)).toBe("0.012");
    expect(formatNumber(0.00001, 0.00001)).toBe("0.00001");
  });
});

describe("nearestIndex", () => {
  it("finds the nearest x by binary search", () => {
    const xs = [0, 10, 20, 30];
    expect(nearestIndex(xs, -5)).toBe(0);
    expect(nearestIndex(xs, 14)).toBe(1);
    expect(nearestIndex(xs, 16)).toBe(2);
    expect(nearestIndex(xs, 99)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe("paths", () => {
  it("draws a polyline and starts a new segment after a gap", () => {
    expect(linePath([[0, 0], [1, 1.006], [NaN, 1], [3, 3]])).toBe("M0,0L1,1.01M3,3");
  });

  it("closes a band along the upper line and back along the lower one", () => {
    expect(bandPath([[0, 10, 5], [1, 11, 6]])).toBe("M0,5L1,6L1,11L0,10Z");
    expect(bandPath([])).toBe("");
  });
});

describe("formatDateTime", () => {
  it("leaves out the clock time for day-bucketed data", () => {
    const ms = new Date(2025, 10, 19, 0, 0).getTime();
    expect(formatDateTime(ms, true)).toBe("19 Nov 2025");
    expect(formatDateTime(ms)).toBe("19 Nov 2025, 00:00");
  });
});
