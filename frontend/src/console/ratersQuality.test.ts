import { describe, expect, it } from "vitest";
import type { Rater } from "./api";
import { rowsById } from "./quality";
import { REPORT } from "./qualityFixture";
import { raterColumns } from "./RatersSection";

const rater = (id: number, username: string): Rater => ({
  id,
  username,
  role: "annotator",
  status: "active",
  paused_reason: "",
  pool_ids: [],
  judgment_count: 30,
});

const context = { poolNames: () => "", onPause: () => {}, onResume: () => {}, busyId: null };

describe("the raters table's quality columns", () => {
  it("are added before the actions only when a campaign's report is chosen", () => {
    expect(raterColumns(context).map((c) => c.key)).not.toContain("flags");
    const keys = raterColumns({ ...context, quality: rowsById(REPORT) }).map((c) => c.key);
    expect(keys.slice(-5)).toEqual(["loo", "gold", "median_time", "flags", "actions"]);
  });

  it("sort by the report's figures, with raters the report lacks left empty", () => {
    const columns = raterColumns({ ...context, quality: rowsById(REPORT) });
    const value = (key: string, r: Rater) => columns.find((c) => c.key === key)!.value(r);
    const biased = rater(11, "sim-11");
    const newcomer = rater(500, "new");
    expect(value("loo", biased)).toBeCloseTo(0.538, 3);
    expect(value("median_time", biased)).toBe(18560.5);
    expect(value("flags", biased)).toBe("position bias");
    expect(value("gold", biased)).toBeNull();
    expect([value("loo", newcomer), value("flags", newcomer)]).toEqual([null, null]);
  });
});
