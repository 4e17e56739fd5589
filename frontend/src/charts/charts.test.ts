import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { IntervalChart } from "./IntervalChart";
import { LineChart } from "./LineChart";

describe("LineChart", () => {
  const html = renderToStaticMarkup(
    createElement(LineChart, {
      title: "Agreement over time",
      description: "Weekly agreement with a 95% interval.",
      xType: "number",
      series: [
        { name: "Alpha", points: [{ x: 1, y: 0.5, low: 0.4, high: 0.6 }, { x: 2, y: 0.7, low: 0.6, high: 0.8 }] },
        { name: "Kappa", points: [{ x: 1, y: 0.3 }], dashed: true },
      ],
    }),
  );

  it("is an image named by its title and description", () => {
    expect(html).toMatch(/<svg[^>]*role="img"[^>]*aria-labelledby="[^"]+-title"/);
    expect(html).toContain("<title");
    expect(html).toContain("Weekly agreement with a 95% interval.</desc>");
  });

  it("draws a band for the series with intervals only, and a legend for two series", () => {
    expect(html.match(/class="chart-band"/g)).toHaveLength(1);
    expect(html).toContain('class="chart-legend"');
  });

  it("carries the numbers in a hidden table", () => {
    expect(html).toMatch(/<div class="chart-data"><table class="visually-hidden"><caption>Agreement over time<\/caption>/);
    expect(html).toContain("<td>0.5 (0.4 to 0.6)</td>");
    expect(html).toContain("<td>–</td>"); // Kappa has no point at x = 2
  });

  it("says so when there is no data", () => {
    const empty = renderToStaticMarkup(createElement(LineChart, { title: "Nothing", series: [] }));
    expect(empty).toContain("No data yet.");
    expect(empty).not.toContain("<svg");
  });
});

describe("IntervalChart", () => {
  const html = renderToStaticMarkup(
    createElement(IntervalChart, {
      title: "Position bias by rater",
      items: [
        { id: 1, label: "ann1", value: 0.52, low: 0.45, high: 0.59 },
        { id: 2, label: "ann2", value: 0.71, low: 0.62, high: 0.8, flagged: true, note: "n = 80" },
      ],
      domain: [0, 1],
      reference: 0.5,
      referenceLabel: "chance",
    }),
  );

  it("draws one row per item and highlights the flagged one", () => {
    expect(html.match(/class="interval-row[" ]/g)).toHaveLength(2);
    expect(html.match(/class="interval-row is-flagged"/g)).toHaveLength(1);
  });

  it("draws the dashed reference line with its label", () => {
    expect(html).toContain('class="chart-reference"');
    expect(html).toContain(">chance</text>");
  });

  it("has the flag and the note in the hidden table", () => {
    expect(html).toContain("<th scope=\"row\">ann2</th><td>0.71</td><td>0.62 to 0.80</td><td>yes; n = 80</td>");
    expect(html).toContain("<td>no</td>");
  });
});
