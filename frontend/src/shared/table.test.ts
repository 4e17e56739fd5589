import { describe, expect, it } from "vitest";
import { compareValues, nextSort, sortRows, type Column } from "./table";

interface Row {
  name: string;
  count: number | null;
}

const columns: Column<Row>[] = [
  { key: "name", header: "Name", value: (r) => r.name },
  { key: "count", header: "Count", value: (r) => r.count, numeric: true },
];

const rows: Row[] = [
  { name: "rater10", count: 3 },
  { name: "Rater2", count: null },
  { name: "rater1", count: 12 },
  { name: "bob", count: 3 },
];

describe("sortRows", () => {
  it("sorts text case-insensitively with numbers in natural order", () => {
    const sorted = sortRows(rows, columns, { key: "name", direction: "ascending" });
    expect(sorted.map((r) => r.name)).toEqual(["bob", "rater1", "Rater2", "rater10"]);
  });

  it("sorts numbers numerically, keeps ties in their original order, and missing values last", () => {
    expect(sortRows(rows, columns, { key: "count", direction: "descending" }).map((r) => r.name)).toEqual([
      "rater1",
      "rater10",
      "bob",
      "Rater2",
    ]);
    expect(sortRows(rows, columns, { key: "count", direction: "ascending" }).map((r) => r.name)).toEqual([
      "rater10",
      "bob",
      "rater1",
      "Rater2",
    ]);
  });

  it("returns a copy in the original order with no sort or an unknown column", () => {
    expect(sortRows(rows, columns, null)).toEqual(rows);
    expect(sortRows(rows, columns, null)).not.toBe(rows);
    expect(sortRows(rows, columns, { key: "nope", direction: "ascending" })).toEqual(rows);
  });
});

describe("nextSort", () => {
  it("starts text ascending and numbers descending, and flips on a second click", () => {
    expect(nextSort(null, columns[0])).toEqual({ key: "name", direction: "ascending" });
    expect(nextSort(null, columns[1])).toEqual({ key: "count", direction: "descending" });
    expect(nextSort({ key: "name", direction: "ascending" }, columns[0])).toEqual({ key: "name", direction: "descending" });
    expect(nextSort({ key: "name", direction: "descending" }, columns[1])).toEqual({ key: "count", direction: "descending" });
  });
});

describe("compareValues", () => {
  it("orders missing values after present ones", () => {
    expect(compareValues(null, 1)).toBeGreaterThan(0);
    expect(compareValues("", "a")).toBeGreaterThan(0);
    expect(compareValues(undefined, null)).toBe(0);
  });
});
