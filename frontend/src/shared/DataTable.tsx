import { useMemo, useState, type ReactNode } from "react";
import { nextSort, sortRows, type Column, type Sort } from "./table";

interface Props<Row> {
  caption: string;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row) => string | number;
  initialSort?: Sort | null;
  empty?: ReactNode;
  /** Marks a row (e.g. the one being edited). */
  isSelected?: (row: Row) => boolean;
  testId?: string;
}

/** A table whose columns are a list; headers sort by a click or Enter, and say how they sort. */
export function DataTable<Row>({ caption, columns, rows, rowKey, initialSort = null, empty, isSelected, testId }: Props<Row>) {
  const [sort, setSort] = useState<Sort | null>(initialSort);
  const sorted = useMemo(() => sortRows(rows, columns, sort), [rows, columns, sort]);
  return (
    <div className="table-scroll" data-testid={testId}>
      <table className="data-table">
        <caption className="visually-hidden">
          {caption}
          {sort ? `, sorted by ${columns.find((c) => c.key === sort.key)?.header} ${sort.direction}` : ""}
        </caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const sortable = column.sortable !== false;
              const current = sort?.key === column.key ? sort.direction : undefined;
              return (
                <th
                  key={column.key}
                  scope="col"
                  aria-sort={current ?? (sortable ? "none" : undefined)}
                  className={column.numeric ? "numeric" : undefined}
                >
                  {sortable ? (
                    <button type="button" className="sort-button" onClick={() => setSort(nextSort(sort, column))}>
                      {column.header}
                      <span className="sort-mark" aria-hidden="true">
                        {current === "ascending" ? "▲" : current === "descending" ? "▼" : "↕"}
                      </span>
                    </button>
                  ) : (
                    column.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="table-empty">
                {empty ?? "Nothing here yet."}
              </td>
            </tr>
          ) : (
            sorted.map((row) => (
              <tr key={rowKey(row)} className={isSelected?.(row) ? "is-selected" : undefined}>
                {columns.map((column) => (
                  <td key={column.key} className={column.numeric ? "numeric" : undefined} data-label={column.header}>
                    {column.render ? column.render(row) : (column.value(row) ?? "–")}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
