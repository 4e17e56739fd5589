/** The numbers behind a chart, in a table only screen readers see. */

export interface ChartDataRow {
  key: string | number;
  /** The row's name (an item, an x value), read out as the row header. */
  name: string;
  cells: string[];
}

interface Props {
  caption: string;
  /** The first names the row headers' column, the rest the cells'. */
  columns: string[];
  rows: ChartDataRow[];
}

export function ChartDataTable({ caption, columns, rows }: Props) {
  return (
    // The clipping wrapper keeps the hidden table (no narrower than its cells) from widening the page.
    <div className="chart-data">
      <table className="visually-hidden">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column, index) => (
              <th key={index} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.name}</th>
              {row.cells.map((cell, index) => (
                <td key={index}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
