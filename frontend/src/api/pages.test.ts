import { describe, expect, it } from "vitest";
import { apiPathOf } from "./pages";

describe("apiPathOf", () => {
  it("turns the server's absolute next link into a path under /api/v1", () => {
    expect(apiPathOf("http://testserver/api/v1/pools/?limit=50&offset=50")).toBe("/pools/?limit=50&offset=50");
  });
});
