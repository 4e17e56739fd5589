import { describe, expect, it } from "vitest";
import { countPerDay, taskProgress } from "./campaignStats";

describe("taskProgress", () => {
  it("counts complete tasks out of all", () => {
    expect(taskProgress({ task_count: 30, complete_count: 7 })).toEqual({
      complete: 7,
      total: 30,
      fraction: 7 / 30,
      text: "7 / 30 tasks (23 %)",
    });
  });

  it("says when there are no tasks", () => {
    expect(taskProgress({ task_count: 0, complete_count: 0 }).text).toBe("No tasks yet");
  });
});

describe("countPerDay", () => {
  it("counts per local day and fills the days between with zeros", () => {
    const at = (day: number, hour: number) => new Date(2025, 2, day, hour).toISOString();
    const counts = countPerDay([at(3, 9), at(3, 23), at(5, 1), "not a date"]);
    expect(counts.map((c) => [new Date(c.day).getDate(), c.count])).toEqual([
      [3, 2],
      [4, 0],
      [5, 1],
    ]);
  });

  it("is empty without timestamps", () => {
    expect(countPerDay([])).toEqual([]);
  });
});
