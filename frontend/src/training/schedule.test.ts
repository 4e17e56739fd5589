import { describe, expect, it } from "vitest";
import {
  cronProblem,
  EMPTY_SCHEDULE,
  scheduleChanges,
  scheduleDraft,
  scheduleRequest,
  triggerProgress,
  validateSchedule,
} from "./schedule";
import type { Schedule } from "./types";

describe("cronProblem", () => {
  it.each(["0 3 * * *", "*/15 * * * 1-5", "0 0,12 1 jan-jun mon", "30 2 * * 0"])("accepts %s", (cron) => {
    expect(cronProblem(cron)).toBeNull();
  });

  it("rejects the wrong number of fields, bad characters and values out of range", () => {
    expect(cronProblem("0 3 * *")).toMatch(/five fields/);
    expect(cronProblem("0 3 * * * *")).toMatch(/five fields/);
    expect(cronProblem("0 3 ? * *")).toBe("“?” is not a cron field.");
    expect(cronProblem("61 3 * * *")).toBe("“61” is out of range for that field.");
    expect(cronProblem("0 24 * * *")).toBe("“24” is out of range for that field.");
  });
});

describe("validateSchedule", () => {
  it("accepts the defaults", () => {
    expect(validateSchedule(EMPTY_SCHEDULE)).toEqual({});
  });

  it("needs a trigger when enabled, but not when disabled", () => {
    const none = { ...EMPTY_SCHEDULE, every_n_judgments: "", cron: "" };
    expect(validateSchedule(none)).toEqual({
      every_n_judgments: ["Set a number of judgments, a cron, or both: otherwise it never fires."],
    });
    expect(validateSchedule({ ...none, enabled: false })).toEqual({});
  });

  it("checks every number and the cron", () => {
    expect(
      validateSchedule({ ...EMPTY_SCHEDULE, every_n_judgments: "0", cron: "bad", generate_prompts: "2.5", responses_per_prompt: "20" }),
    ).toEqual({
      every_n_judgments: ["Enter a number from 1 to 1000000."],
      cron: ["A cron has five fields: minute hour day month weekday (e.g. 0 3 * * *)."],
      generate_prompts: ["Enter a whole number."],
      responses_per_prompt: ["Enter a number from 2 to 16."],
    });
  });
});

describe("scheduleRequest and scheduleChanges", () => {
  const schedule: Schedule = {
    id: 1,
    campaign: { id: 3, name: "Demo" },
    enabled: true,
    every_n_judgments: null,
    cron: "0 3 * * *",
    policy_kind: "dpo",
    generate_prompts: 10,
    responses_per_prompt: 4,
    dataset: {},
    hyperparameters: {},
    check_reward_version: { id: 7, name: "gold-rm", kind: "reward" },
    arena_campaign: null,
    gate_max_comparisons: 100,
    judgments_at_last_fire: 40,
    judgments_since_last_fire: 12,
    last_fired_at: null,
  };

  it("round-trips a schedule", () => {
    expect(scheduleRequest(scheduleDraft(schedule))).toEqual({
      enabled: true,
      every_n_judgments: null,
      cron: "0 3 * * *",
      policy_kind: "dpo",
      generate_prompts: 10,
      responses_per_prompt: 4,
      check_reward_version_id: 7,
      arena_campaign_id: null,
      gate_max_comparisons: 100,
    });
  });

  it("sends only what changed", () => {
    const before = scheduleDraft(schedule);
    expect(scheduleChanges(before, { ...before, every_n_judgments: "150", cron: " 0 3 * * * " })).toEqual({ every_n_judgments: 150 });
    expect(scheduleChanges(before, before)).toEqual({});
  });

  it("clears the watch's second reward model with null", () => {
    const before = scheduleDraft(schedule);
    expect(scheduleChanges(before, { ...before, check_reward_version_id: "" })).toEqual({ check_reward_version_id: null });
    expect(scheduleRequest(EMPTY_SCHEDULE).check_reward_version_id).toBeNull();
  });
});

describe("the promotion gate", () => {
  it("sets and clears the arena, and checks the comparisons' limit", () => {
    const before = { ...EMPTY_SCHEDULE };
    expect(scheduleChanges(before, { ...before, arena_campaign_id: "5", gate_max_comparisons: "300" })).toEqual({
      arena_campaign_id: 5,
      gate_max_comparisons: 300,
    });
    expect(scheduleChanges({ ...before, arena_campaign_id: "5" }, before)).toEqual({ arena_campaign_id: null });
    expect(validateSchedule({ ...before, gate_max_comparisons: "5" })).toEqual({ gate_max_comparisons: ["Enter a number from 10 to 100000."] });
  });
});

describe("triggerProgress", () => {
  it("says how near the next round is", () => {
    expect(triggerProgress({ every_n_judgments: 200, judgments_since_last_fire: 50 })).toEqual({
      text: "50 of 200 judgments since the last round",
      fraction: 0.25,
    });
    expect(triggerProgress({ every_n_judgments: 10, judgments_since_last_fire: 25 }).fraction).toBe(1);
    expect(triggerProgress({ every_n_judgments: null, judgments_since_last_fire: 1 })).toEqual({
      text: "1 judgment since the last round",
      fraction: null,
    });
  });
});
