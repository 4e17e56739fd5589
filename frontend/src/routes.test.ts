import { describe, expect, it } from "vitest";
import { homeFor, isAppPath, safeNext } from "./routes";

const SITE = "https://studio.example";

describe("where a sign-in leads", () => {
  it("sends each role to its home", () => {
    expect(homeFor("admin")).toBe("/console");
    expect(homeFor("ml_engineer")).toBe("/training");
    expect(homeFor("annotator")).toBe("/annotate");
  });

  it("keeps a page on this site, with its query", () => {
    expect(safeNext("?next=%2Ftraining%3Frun%3D4", SITE)).toBe("/training?run=4");
    expect(safeNext("?next=/admin/", SITE)).toBe("/admin/");
  });

  it("refuses other sites, tricks and the sign-in page itself", () => {
    const hostile = ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/login", "/", "", "javascript:alert(1)"];
    for (const next of hostile) {
      expect(safeNext(`?${new URLSearchParams({ next })}`, SITE), next).toBeNull();
    }
    expect(safeNext("", SITE)).toBeNull();
  });

  it("tells the app's own pages from server pages", () => {
    expect(isAppPath("/training?run=4", SITE)).toBe(true);
    expect(isAppPath("/console/", SITE)).toBe(true);
    expect(isAppPath("/admin/", SITE)).toBe(false);
    expect(isAppPath("/api/v1/docs/", SITE)).toBe(false);
  });
});
