/** Sortable tables: a column list (so adding a column is one entry) and a pure sort. */

import type { ReactNode } from "react";

export type SortValue = string | number | null | undefined;

export interface Column<Row> {
  key: string;
  header: string;
  /** What the column sorts by; also shown when there is no `render`. */
  value: (row: Row) => SortValue;
  render?: (row: Row) => ReactNode;
  numeric?: boolean;
  /** false for action columns. */
  sortable?: boolean;
}

export type Direction = "ascending" | "descending";

export interface Sort {
  key: string;
  direction: Direction;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function compareValues(a: SortValue, b: SortValue): number {
  const aMissing = a === null || a === undefined || a === "";
  const bMissing = b === null || b === undefined || b === "";
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return collator.compare(String(a), String(b));
}

/** A sorted copy; stable, and rows with no value stay last in either direction. */
export function sortRows<Row>(rows: readonly Row[], columns: readonly Column<Row>[], sort: Sort | null): Row[] {
  const column = sort && columns.find((c) => c.key === sort.key);
  if (!sort || !column) return [...rows];
  const sign = sort.direction === "ascending" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: column.value(row) }))
    .sort((a, b) => {
      const aMissing = a.value === null || a.value === undefined || a.value === "";
      const bMissing = b.value === null || b.value === undefined || b.value === "";
      if (aMissing !== bMissing) return aMissing ? 1 : -1;
      return sign * compareValues(a.value, b.value) || a.index - b.index;
    })
    .map((entry) => entry.row);
}

/** A click on a header: a new column sorts ascending (numbers descending), the same one flips. */
export function nextSort<Row>(current: Sort | null, column: Column<Row>): Sort {
  if (current?.key === column.key) {
    return { key: column.key, direction: current.direction === "ascending" ? "descending" : "ascending" };
  }
  return { key: column.key, direction: column.numeric ? "descending" : "ascending" };
}
