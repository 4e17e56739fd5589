import { describe, expect, it } from "vitest";

// Every module's source, keyed by its path from this folder ("../console/api.ts").
const SOURCES = import.meta.glob<string>("../**/*.{ts,tsx}", { query: "?raw", import: "default", eager: true });

/** The other top-level folders a module imports from ("console", "shared"), by relative path. */
function foldersImported(path: string, source: string): string[] {
  const depth = path.split("/").length - 2;
  const up = depth > 0 ? "../".repeat(depth) : "./";
  const found = [...source.matchAll(/^import[^"]*"([^"]+)";$/gm)].map((match) => match[1]);
  return found.filter((target) => target.startsWith(up) && depth > 0).map((target) => target.slice(up.length).split("/")[0]);
}

// The two admin areas share code only through these; neither imports the other.
const SHARED_HOMES = ["shared", "charts", "api", "markdown", "ranking", "routes"];

describe("area boundaries", () => {
  it("finds the modules it checks", () => {
    expect(Object.keys(SOURCES).some((path) => path.startsWith("../training/"))).toBe(true);
    expect(Object.keys(SOURCES).some((path) => path.startsWith("../console/"))).toBe(true);
  });

  for (const area of ["console", "training"]) {
    it(`${area} imports only shared homes`, () => {
      const crossings = Object.entries(SOURCES)
        .filter(([path]) => path.startsWith(`../${area}/`))
        .flatMap(([path, source]) =>
          foldersImported(path.slice(1), source)
            .filter((folder) => !SHARED_HOMES.includes(folder))
            .map((folder) => `${path} imports ${folder}/`),
        );
      expect(crossings).toEqual([]);
    });
  }
});
