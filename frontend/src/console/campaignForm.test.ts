import { describe, expect, it } from "vitest";
import type { Campaign } from "./api";
import {
  createPayload,
  describeSeconds,
  describeShare,
  draftFrom,
  EMPTY_DRAFT,
  fieldsOf,
  onlyFields,
  patchPayload,
  validateDraft,
  withArena,
  withMode,
} from "./campaignForm";

const campaign: Campaign = {
  id: 7,
  name: "Helpfulness",
  guidelines: "Be *kind*.",
  responses_per_task: 4,
  overlap: 3,
  lease_ttl_s: 1800,
  gold_rate: 0.05,
  judgment_mode: "rank",
  status: "active",
  created_at: "2025-01-01T00:00:00Z",
  task_count: 10,
  complete_count: 2,
  judgment_count: 9,
  gold_count: 0,
  model_label_count: 0,
};

describe("createPayload", () => {
  it("maps the typed fields to the API's numbers and trims the name", () => {
    const draft = { ...EMPTY_DRAFT, name: "  Safety  ", guidelines: "Rank **safely**", overlap: "5", gold_rate: "0.1", lease_ttl_s: "600" };
    expect(createPayload(draft)).toEqual({
      name: "Safety",
      guidelines: "Rank **safely**",
      judgment_mode: "rank",
      responses_per_task: 4,
      overlap: 5,
      gold_rate: 0.1,
      lease_ttl_s: 600,
      onboarding_gold: 0,
      repeat_rate: 0,
      pause_gold_accuracy_below: null,
      pause_gold_min_items: 10,
      reading_floor_ms_per_char: 15,
      routing: "everything",
      routing_confidence: 2,
      human_tasks_per_prompt: 0,
      judge_model: "smollm2",
      is_arena: false,
    });
  });

  it("needs a judge model under judge routing and trims it", () => {
    const draft = { ...EMPTY_DRAFT, name: "x", routing: "judge" as const, judge_model: "  my/judge " };
    expect(createPayload(draft)).toMatchObject({ routing: "judge", judge_model: "my/judge" });
    expect(validateDraft({ ...draft, judge_model: " " })).toEqual({ judge_model: ["Name the model that judges."] });
    expect(validateDraft({ ...draft, routing: "everything", judge_model: "" })).toEqual({});
  });

  it("sends the routing settings as typed and checks their limits", () => {
    const draft = { ...EMPTY_DRAFT, name: "x", routing: "uncertainty" as const, routing_confidence: "1.5", human_tasks_per_prompt: "2" };
    expect(createPayload(draft)).toMatchObject({ routing: "uncertainty", routing_confidence: 1.5, human_tasks_per_prompt: 2 });
    expect(validateDraft({ ...draft, routing_confidence: "-1", human_tasks_per_prompt: "1.5" })).toEqual({
      routing_confidence: ["Enter a number from 0 to 1000."],
      human_tasks_per_prompt: ["Enter a whole number."],
    });
  });

  it("sends an empty pause threshold as null (no automatic pause) and a typed one as a number", () => {
    expect(createPayload({ ...EMPTY_DRAFT, name: "x" }).pause_gold_accuracy_below).toBeNull();
    expect(createPayload({ ...EMPTY_DRAFT, name: "x", pause_gold_accuracy_below: "0.7" }).pause_gold_accuracy_below).toBe(0.7);
  });
});

describe("patchPayload", () => {
  it("sends nothing for an unchanged form", () => {
    expect(patchPayload(campaign, draftFrom(campaign))).toEqual({});
  });

  it("counts a field the campaign object lacks as the server's default", () => {
    const withRule = { ...campaign, pause_gold_accuracy_below: 0.6, pause_gold_min_items: 12 };
    expect(patchPayload(withRule, draftFrom(withRule))).toEqual({});
    expect(patchPayload(withRule, { ...draftFrom(withRule), pause_gold_accuracy_below: "" })).toEqual({
      pause_gold_accuracy_below: null,
    });
  });

  it("sends the gold settings that changed", () => {
    const draft = { ...draftFrom(campaign), onboarding_gold: "5", repeat_rate: "0.1", reading_floor_ms_per_char: "12.5" };
    expect(patchPayload(campaign, draft)).toEqual({ onboarding_gold: 5, repeat_rate: 0.1, reading_floor_ms_per_char: 12.5 });
  });

  it("sends only the fields that changed", () => {
    const draft = { ...draftFrom(campaign), overlap: "4", guidelines: "New rules" };
    expect(patchPayload(campaign, draft)).toEqual({ overlap: 4, guidelines: "New rules" });
  });
});

describe("validateDraft", () => {
  it("accepts the defaults with a name", () => {
    expect(validateDraft({ ...EMPTY_DRAFT, name: "x" })).toEqual({});
  });

  it("reports each field the server would reject, keyed like the server's errors", () => {
    const errors = validateDraft({
      ...EMPTY_DRAFT,
      name: " ",
      responses_per_task: "17",
      overlap: "2.5",
      gold_rate: "1.5",
      lease_ttl_s: "",
    });
    expect(errors).toEqual({
      name: ["A campaign needs a name."],
      responses_per_task: ["Enter a number from 2 to 16."],
      overlap: ["Enter a whole number."],
      gold_rate: ["Enter a number from 0 to 1."],
      lease_ttl_s: ["Enter a number."],
    });
  });

  it("checks the gold settings against the server's limits; an empty pause threshold is allowed", () => {
    const errors = validateDraft({
      ...EMPTY_DRAFT,
      name: "x",
      onboarding_gold: "1.5",
      repeat_rate: "0.6",
      pause_gold_accuracy_below: "",
      pause_gold_min_items: "0",
      reading_floor_ms_per_char: "-1",
    });
    expect(errors).toEqual({
      onboarding_gold: ["Enter a whole number."],
      repeat_rate: ["Enter a number from 0 to 0.5."],
      pause_gold_min_items: ["Enter a number from 1 to 1000."],
      reading_floor_ms_per_char: ["Enter a number from 0 to 1000."],
    });
    expect(validateDraft({ ...EMPTY_DRAFT, name: "x", pause_gold_accuracy_below: "80" })).toEqual({
      pause_gold_accuracy_below: ["Enter a number from 0 to 1."],
    });
  });

  it("keeps only the errors of the fields a form part shows", () => {
    const errors = { name: ["A campaign needs a name."], repeat_rate: ["Enter a number."] };
    expect(fieldsOf(["quality"])).not.toContain("name");
    expect(fieldsOf(["basics", "quality"]).filter((f) => f === "gold_rate")).toHaveLength(1);
    expect(onlyFields(errors, fieldsOf(["quality"]))).toEqual({ repeat_rate: ["Enter a number."] });
  });

  it("requires K = 2 for a pairwise campaign", () => {
    expect(validateDraft({ ...EMPTY_DRAFT, name: "p", judgment_mode: "pairwise", responses_per_task: "4" })).toEqual({
      responses_per_task: ["A pairwise campaign has exactly 2 responses per task."],
    });
  });
});

describe("withMode", () => {
  it("sets K to 2 when switching to pairwise and keeps K otherwise", () => {
    expect(withMode(EMPTY_DRAFT, "pairwise").responses_per_task).toBe("2");
    expect(withMode({ ...EMPTY_DRAFT, responses_per_task: "5" }, "rank").responses_per_task).toBe("5");
  });
});

describe("withArena", () => {
  it("sets pairwise mode and K = 2, and leaving pairwise leaves the arena", () => {
    const arena = withArena({ ...EMPTY_DRAFT, responses_per_task: "5" }, true);
    expect(arena).toMatchObject({ is_arena: true, judgment_mode: "pairwise", responses_per_task: "2" });
    expect(validateDraft({ ...arena, name: "a" })).toEqual({});
    expect(withMode(arena, "rank").is_arena).toBe(false);
    expect(withArena(arena, false)).toMatchObject({ is_arena: false, judgment_mode: "pairwise" });
  });

  it("sends is_arena only when it changed", () => {
    expect(patchPayload(campaign, withArena(draftFrom(campaign), true))).toEqual({ is_arena: true, judgment_mode: "pairwise", responses_per_task: 2 });
    expect(validateDraft({ ...EMPTY_DRAFT, name: "a", is_arena: true })).toEqual({
      is_arena: ["An arena compares two answers at a time: use pairwise mode."],
    });
  });
});

describe("describeSeconds", () => {
  it("reads seconds as seconds, minutes or hours", () => {
    expect(describeSeconds("45")).toBe("45 s");
    expect(describeSeconds("1800")).toBe("30 min");
    expect(describeSeconds("86400")).toBe("24 h");
    expect(describeSeconds("x")).toBe("");
  });
});

describe("describeShare", () => {
  it("shows a typed fraction in percent, and nothing for zero or junk", () => {
    expect(describeShare("0.05")).toBe(" (5 %)");
    expect(describeShare("0.125")).toBe(" (12.5 %)");
    expect(describeShare("0")).toBe("");
    expect(describeShare("")).toBe("");
  });
});
