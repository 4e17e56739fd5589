import { describe, expect, it } from "vitest";
import { ApiError, NetworkError } from "../api/client";
import { errorMessage, fieldErrors, humanField, rowProblems, unplacedErrors } from "./errors";

const invalid = new ApiError(400, "invalid", "The request has invalid fields.", {
  name: ["campaign with this name already exists."],
  responses_per_task: ["A pairwise campaign has exactly 2 responses per task."],
});

describe("fieldErrors", () => {
  it("keeps DRF's field → messages", () => {
    expect(fieldErrors(invalid)).toEqual({
      name: ["campaign with this name already exists."],
      responses_per_task: ["A pairwise campaign has exactly 2 responses per task."],
    });
  });

  it("flattens nested errors and names non-field ones", () => {
    const nested = new ApiError(400, "invalid", "x", { add: { 0: ["Must be at least 1."] }, non_field_errors: "Bad" });
    expect(fieldErrors(nested)).toEqual({ "add.0": ["Must be at least 1."], non_field_errors: ["Bad"] });
  });

  it("is empty for row errors, other failures and errors without fields", () => {
    expect(fieldErrors(new ApiError(400, "import_rejected", "x", [{ line: 1, reason: "bad" }]))).toEqual({});
    expect(fieldErrors(new NetworkError(null))).toEqual({});
    expect(fieldErrors(new ApiError(404, "not_found", "Not found."))).toEqual({});
  });
});

describe("rowProblems", () => {
  it("reads an import's rejected rows", () => {
    const rejected = new ApiError(400, "import_rejected", "2 bad rows; nothing was imported.", [
      { line: 3, reason: "responses must be a list" },
      { line: 9, reason: "prompt is empty" },
    ]);
    expect(rowProblems(rejected)).toEqual([
      { line: 3, reason: "responses must be a list" },
      { line: 9, reason: "prompt is empty" },
    ]);
    expect(rowProblems(invalid)).toEqual([]);
  });
});

describe("errorMessage", () => {
  it("says what each kind of failure means", () => {
    expect(errorMessage(new NetworkError(null))).toMatch(/could not be reached/);
    expect(errorMessage(new ApiError(403, "permission_denied", "You do not have permission."))).toBe(
      "Not allowed: You do not have permission.",
    );
    expect(errorMessage(new ApiError(404, "not_found", "Not found."))).toMatch(/^Not found: /);
    expect(errorMessage(new ApiError(500, "server_error", "Something went wrong on our side; it was logged."))).toMatch(
      /^The server failed \(500\)/,
    );
    expect(errorMessage(new ApiError(400, "import_rejected", "2 bad rows; nothing was imported.", []))).toBe(
      "2 bad rows; nothing was imported.",
    );
    expect(errorMessage(new Error("Choose a file first."))).toBe("Choose a file first.");
    expect(errorMessage("???")).toBe("Something went wrong. Try again.");
  });

  it("spells out field errors, since a bare 'invalid fields' says nothing", () => {
    expect(errorMessage(invalid)).toBe(
      "Name: campaign with this name already exists. Responses per task (K): A pairwise campaign has exactly 2 responses per task.",
    );
  });
});

describe("unplacedErrors", () => {
  it("lists only the errors no form field shows", () => {
    expect(unplacedErrors({ name: ["Taken."], status: ["Bad."], non_field_errors: ["No."] }, ["name"])).toEqual([
      "Status: Bad.",
      "No.",
    ]);
  });

  it("names fields in words", () => {
    expect(humanField("lease_ttl_s")).toBe("Lease TTL");
    expect(humanField("gold_rate")).toBe("Gold rate");
  });
});
