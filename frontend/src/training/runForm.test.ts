import { describe, expect, it } from "vitest";
import {
  changedHyperparameters,
  dayBoundary,
  fallbackCampaign,
  hyperOrder,
  hyperProblem,
  newDraft,
  newIdempotencyKey,
  runRequest,
  validateRun,
  withDefaults,
  withKind,
  workerWarning,
  splitProblem,
  strategyProblem,
  type RunDraft,
} from "./runForm";
import type { TrainingOptions } from "./types";

const OPTIONS: TrainingOptions = {
  defaults: {
    reward: { epochs: 1, learning_rate: 0.00001, batch_size: 8, validation_fraction: 0.2, gradient_checkpointing: false, head_init: "random" },
    ppo: { steps: 20, learning_rate: 0.000001, kl_coef: 0.05, target_kl: 6, temperature: 1 },
    generate: { k: 4, max_new_tokens: 256, temperature: 0.8 },
    evaluate: { max_new_tokens: 128 },
  },
  help: {},
  limits: {
    reward: {
      epochs: { type: "number", minimum: 0.01, maximum: 100, choices: null },
      learning_rate: { type: "number", minimum: 1e-9, maximum: 1e-2, choices: null },
      batch_size: { type: "integer", minimum: 1, maximum: 1024, choices: null },
      validation_fraction: { type: "number", minimum: 0, maximum: 0.9, choices: null },
      gradient_checkpointing: { type: "boolean", minimum: null, maximum: null, choices: null },
      head_init: { type: "choice", minimum: null, maximum: null, choices: ["random", "probe"] },
    },
    ppo: { target_kl: { type: "number", minimum: 0.01, maximum: 1000, choices: null } },
  },
  bases: ["smollm2"],
  campaigns: [{ id: 3, name: "Demo" }],
  pools: [{ id: 1, name: "Everyone" }],
  workers: [{ hostname: "gpu@box", python: "/srv/.venv/bin/python", missing: [], can_train: true, processes: 1, strategies: ["ddp"], seen_at: "2026-12-03T12:00:00Z" }],
};

function draft(changes: Partial<RunDraft> = {}, kind: RunDraft["kind"] = "reward"): RunDraft {
  return { ...newDraft(OPTIONS, kind), ...changes };
}

describe("newDraft and withKind", () => {
  it("prefills the kind's defaults as typed text, switches as booleans", () => {
    const fresh = newDraft(OPTIONS);
    expect(fresh.base).toBe("smollm2");
    expect(fresh.hyperparameters).toEqual({
      epochs: "1",
      learning_rate: "0.00001",
      batch_size: "8",
      validation_fraction: "0.2",
      gradient_checkpointing: false,
      head_init: "random",
    });
  });

  it("swaps the hyperparameters for the new kind's and keeps the rest", () => {
    const before = draft({ campaign_id: "3", dataset: { ...newDraft(OPTIONS).dataset, min_rater_quality: "0.7" } });
    const after = withKind(before, "ppo", OPTIONS);
    expect(after.kind).toBe("ppo");
    expect(after.hyperparameters.target_kl).toBe("6");
    expect(after.dataset.min_rater_quality).toBe("0.7");
    expect(withKind(after, "ppo", OPTIONS)).toBe(after);
  });

  it("resets the hyperparameters to the kind's defaults", () => {
    const changed = draft({ campaign_id: "3" });
    changed.hyperparameters = { ...changed.hyperparameters, epochs: "5" };
    const reset = withDefaults(changed, OPTIONS);
    expect(reset.hyperparameters.epochs).toBe("1");
    expect(reset.campaign_id).toBe("3");
  });
});

describe("validateRun", () => {
  it("accepts a reward run from the base with its defaults", () => {
    expect(validateRun(draft(), OPTIONS)).toEqual({});
  });

  it("asks PPO for a reward model and a positive KL budget", () => {
    const ppo = draft({}, "ppo");
    ppo.hyperparameters.target_kl = "0";
    expect(validateRun(ppo, OPTIONS)).toEqual({
      reward_version_id: ["PPO needs a reward model to optimise against."],
      campaign_id: ["Choose the campaign whose prompts to use: none of the chosen models came from one."],
      "hyperparameters.target_kl": ["Must be at least 0.01."],
    });
  });

  it("asks GRPO and RLOO for a reward model and prompts, as PPO", () => {
    for (const kind of ["grpo", "rloo"] as const) {
      const round = draft({}, kind);
      expect(validateRun(round, OPTIONS)).toEqual({
        reward_version_id: [`${kind.toUpperCase()} needs a reward model to optimise against.`],
        campaign_id: ["Choose the campaign whose prompts to use: none of the chosen models came from one."],
      });
      const versions = [{ id: 9, campaign: { id: 3, name: "Demo" } }];
      expect(validateRun(draft({ reward_version_id: "9" }, kind), OPTIONS, versions)).toEqual({});
    }
  });

  it("lets PPO take its prompts from the campaign its models came from", () => {
    const ppo = draft({ reward_version_id: "9" }, "ppo");
    const versions = [{ id: 9, campaign: { id: 3, name: "Demo" } }];
    expect(validateRun(ppo, OPTIONS, versions)).toEqual({});
    expect(fallbackCampaign(ppo, versions)).toEqual({ id: 3, name: "Demo" });
    expect(fallbackCampaign({ ...ppo, reward_version_id: "" }, versions)).toBeNull();
  });

  it("asks for a version when the run starts from one", () => {
    expect(validateRun(draft({ start: "version" }), OPTIONS)).toEqual({
      parent_version_id: ["Choose a model version."],
    });
  });

  it("asks a generation run for its campaign", () => {
    expect(validateRun(draft({}, "generate"), OPTIONS)).toEqual({
      campaign_id: ["Choose the campaign that receives the new tasks."],
    });
  });

  it("asks an evaluation for two different policies and a reward model", () => {
    expect(validateRun(draft({ parent_version_id: "4", compare_version_id: "4", campaign_id: "3" }, "evaluate"), OPTIONS)).toEqual({
      reward_version_id: ["Choose the reward model that scores them."],
      compare_version_id: ["Choose a different policy from the first."],
    });
  });

  it("checks the dataset's quality bound and dates", () => {
    const bad = draft();
    bad.dataset = { ...bad.dataset, min_rater_quality: "1.5", since: "2025-03-05", until: "2025-03-01" };
    expect(validateRun(bad, OPTIONS)).toEqual({
      "dataset.min_rater_quality": ["Enter a number from 0 to 1, or leave it empty."],
      "dataset.until": ["The end date is before the start date."],
    });
  });

  it("checks hyperparameters against the server's limits", () => {
    const bad = draft();
    bad.hyperparameters = { ...bad.hyperparameters, batch_size: "2.5", learning_rate: "", validation_fraction: "0.95", head_init: "zeros" };
    expect(validateRun(bad, OPTIONS)).toEqual({
      "hyperparameters.batch_size": ["Must be a whole number."],
      "hyperparameters.learning_rate": ["Must be a number."],
      "hyperparameters.validation_fraction": ["Must be at most 0.9."],
      "hyperparameters.head_init": ["Must be one of: random, probe."],
    });
  });

  it("takes the limits from the options endpoint, not from a copy of its own", () => {
    const big = draft();
    big.hyperparameters = { ...big.hyperparameters, batch_size: "64" };
    expect(validateRun(big, OPTIONS)).toEqual({});
    const narrower: TrainingOptions = {
      ...OPTIONS,
      limits: { ...OPTIONS.limits, reward: { ...OPTIONS.limits.reward, batch_size: { type: "integer", minimum: 1, maximum: 16, choices: null } } },
    };
    expect(validateRun(big, narrower)).toEqual({ "hyperparameters.batch_size": ["Must be at most 16."] });
    const unlisted: TrainingOptions = { ...OPTIONS, limits: {} };
    big.hyperparameters.batch_size = "2.5";
    expect(validateRun(big, unlisted)).toEqual({});
  });
});

describe("hyperProblem", () => {
  it("says what the server would, in its words", () => {
    const limit = { type: "integer", minimum: 1, maximum: 1024, choices: null } as const;
    expect(hyperProblem(limit, "8", 8)).toBeNull();
    expect(hyperProblem(limit, "0", 8)).toBe("Must be at least 1.");
    expect(hyperProblem(limit, "2000", 8)).toBe("Must be at most 1024.");
    expect(hyperProblem(limit, "1.5", 8)).toBe("Must be a whole number.");
    expect(hyperProblem({ type: "number", minimum: 1e-9, maximum: 1e-2, choices: null }, "1e-5", 1e-5)).toBeNull();
  });

  it("leaves switches, text and unlisted numbers' ranges to the server", () => {
    expect(hyperProblem(undefined, true, false)).toBeNull();
    expect(hyperProblem(undefined, "", "x")).toBeNull();
    expect(hyperProblem(undefined, "-3", 0)).toBeNull();
    expect(hyperProblem(undefined, "abc", 0)).toBe("Must be a number.");
  });
});

describe("runRequest", () => {
  it("sends a reward run from the base with the dataset and only the changed hyperparameters", () => {
    const reward = draft({ campaign_id: "3" });
    reward.dataset = { ...reward.dataset, campaign_ids: [5, 3], pool_ids: [1], min_rater_quality: "0.6", since: "2025-03-01" };
    reward.hyperparameters = { ...reward.hyperparameters, epochs: "2", gradient_checkpointing: true };
    expect(runRequest(reward, OPTIONS, "key-1")).toEqual({
      kind: "reward",
      idempotency_key: "key-1",
      base: "smollm2",
      dataset: {
        mode: "consensus",
        campaign_ids: [3, 5],
        since: new Date(2025, 2, 1).toISOString(),
        until: null,
        pool_ids: [1],
        min_rater_quality: 0.6,
        exclude_paused: true,
        exclude_gold: true,
        exclude_all_bad: true,
        unsafe: "below",
        model_labels: false,
      },
      hyperparameters: { epochs: 2, gradient_checkpointing: true },
    });
  });

  it("sends a PPO round from a version with its reward model and KL budget, and no dataset", () => {
    const ppo = draft({ start: "version", parent_version_id: "7", reward_version_id: "9" }, "ppo");
    ppo.hyperparameters.target_kl = "3";
    const request = runRequest(ppo, OPTIONS, "key-2");
    expect(request.parent_version_id).toBe(7);
    expect(request.reward_version_id).toBe(9);
    expect(request.base).toBeUndefined();
    expect(request.hyperparameters).toEqual({ target_kl: 3 });
    expect(request.dataset).toBeUndefined();
    expect(request.campaign_id).toBeUndefined();
    expect(runRequest({ ...ppo, campaign_id: "3" }, OPTIONS, "key-2b").campaign_id).toBe(3);
    expect(request.check_reward_version_id).toBeUndefined();
  });

  it("names a policy round's second reward model for its watch, and only a policy round's", () => {
    const ppo = draft({ start: "version", parent_version_id: "7", reward_version_id: "9", check_reward_version_id: "11" }, "ppo");
    expect(runRequest(ppo, OPTIONS, "key-5").check_reward_version_id).toBe(11);
    expect(runRequest({ ...ppo, kind: "dpo" }, OPTIONS, "key-6").check_reward_version_id).toBe(11);
    expect(runRequest({ ...ppo, kind: "generate" }, OPTIONS, "key-7").check_reward_version_id).toBeUndefined();
  });

  it("sends an evaluation's two policies and no dataset, and a generation's campaign", () => {
    const evaluate = runRequest(
      draft({ parent_version_id: "4", compare_version_id: "5", reward_version_id: "2" }, "evaluate"),
      OPTIONS,
      "key-3",
    );
    expect(evaluate).toEqual({
      kind: "evaluate",
      idempotency_key: "key-3",
      parent_version_id: 4,
      compare_version_id: 5,
      reward_version_id: 2,
    });
    const generate = runRequest(draft({ campaign_id: "3" }, "generate"), OPTIONS, "key-4");
    expect(generate).toEqual({ kind: "generate", idempotency_key: "key-4", base: "smollm2", campaign_id: 3 });
  });
});

describe("helpers", () => {
  it("treats an unchanged number typed differently as unchanged", () => {
    expect(changedHyperparameters({ learning_rate: "1e-5", epochs: "1.0" }, { learning_rate: 0.00001, epochs: 1 })).toEqual({});
  });

  it("leaves a parameter whose default is unset out until it is given", () => {
    expect(changedHyperparameters({ warmup: "" }, { warmup: null })).toEqual({});
    expect(changedHyperparameters({ warmup: "10" }, { warmup: null })).toEqual({ warmup: 10 });
  });

  it("turns a day into its first and last moment, and rejects other text", () => {
    expect(dayBoundary("2025-03-01")).toBe(new Date(2025, 2, 1).toISOString());
    expect(dayBoundary("2025-03-01", true)).toBe(new Date(2025, 2, 1, 23, 59, 59, 999).toISOString());
    expect(dayBoundary("March 1")).toBeNull();
  });

  it("puts the KL budget first", () => {
    expect(hyperOrder(["steps", "learning_rate", "target_kl", "kl_coef"])).toEqual(["target_kl", "steps", "learning_rate", "kl_coef"]);
  });

  it("makes a distinct key each time", () => {
    const keys = new Set(Array.from({ length: 50 }, newIdempotencyKey));
    expect(keys.size).toBe(50);
    expect([...keys][0]).toMatch(/^dash-/);
  });
});

describe("what the form says about training workers", () => {
  const bare = { hostname: "gpu@bare", python: "/usr/bin/python3", missing: ["torch", "transformers"], can_train: false, processes: 1, strategies: ["ddp"], seen_at: "2026-12-03T12:00:00Z" };

  it("says nothing when a worker can train", () => {
    expect(workerWarning(OPTIONS.workers)).toBeNull();
    expect(workerWarning([...OPTIONS.workers, bare])).toBeNull();
  });

  it("names what a worker lacks and how to install it", () => {
    const warning = workerWarning([bare]);
    expect(warning).toContain("gpu@bare lacks torch, transformers");
    expect(warning).toContain("make install-train");
  });

  it("says a run waits when no worker has reported", () => {
    expect(workerWarning([])).toMatch(/^No training worker has reported in yet/);
  });
});

describe("a batch that must split over a worker's processes", () => {
  const twoProcesses = { hostname: "gpu@pair", python: "/srv/.venv/bin/python", missing: [], can_train: true, processes: 2, strategies: ["ddp"], seen_at: "2026-12-03T12:00:00Z" };
  const options = { ...OPTIONS, workers: [twoProcesses] };

  it("refuses an odd batch for a worker that runs two processes, naming it", () => {
    const errors = validateRun(draft({ hyperparameters: { ...draft().hyperparameters, batch_size: "3" } }), options);
    expect(errors["hyperparameters.batch_size"]).toEqual([
      "The training worker gpu@pair runs each run on 2 processes, each taking an equal share of the batch: use a multiple of 2.",
    ]);
    expect(validateRun(draft({ hyperparameters: { ...draft().hyperparameters, batch_size: "4" } }), options)).toEqual({});
  });

  it("ignores one-process workers, workers that cannot train, and kinds that run on one process", () => {
    expect(splitProblem(OPTIONS.workers, "reward", "batch_size", "3")).toBeNull();
    expect(splitProblem([{ ...twoProcesses, can_train: false }], "reward", "batch_size", "3")).toBeNull();
    expect(splitProblem([twoProcesses], "generate", "batch_size", "3")).toBeNull();
    expect(splitProblem([twoProcesses], "ppo", "minibatch_size", "3")).toMatch(/multiple of 2/);
    // A fleet where some worker can run it: the run is sent (a worker that cannot refuses it).
    expect(splitProblem([...OPTIONS.workers, twoProcesses], "reward", "batch_size", "3")).toBeNull();
  });
});

describe("strategyProblem", () => {
  const deepspeed = { ...OPTIONS.workers[0], hostname: "gpu@ds", strategies: ["ddp", "deepspeed-zero2"] };

  it("refuses a strategy no worker that can train allows, naming what they allow", () => {
    expect(strategyProblem(OPTIONS.workers, "strategy", "deepspeed-zero2")).toBe(
      "No training worker allows the deepspeed-zero2 strategy (they allow ddp: each worker's TRAINING_STRATEGY).",
    );
    expect(strategyProblem([...OPTIONS.workers, deepspeed], "strategy", "deepspeed-zero2")).toBeNull();
    expect(strategyProblem([{ ...deepspeed, can_train: false }, OPTIONS.workers[0]], "strategy", "deepspeed-zero2")).toMatch(/No training worker/);
  });

  it("says nothing about other fields, the default, or a fleet that cannot train", () => {
    expect(strategyProblem(OPTIONS.workers, "strategy", "ddp")).toBeNull();
    expect(strategyProblem(OPTIONS.workers, "batch_size", "deepspeed-zero2")).toBeNull();
    expect(strategyProblem([], "strategy", "deepspeed-zero2")).toBeNull();
  });
});

describe("arena answers", () => {
  it("needs an arena campaign and sends the rival only when one is chosen", () => {
    const arena = draft({ start: "version", parent_version_id: "4" }, "arena");
    expect(validateRun(arena, OPTIONS)).toEqual({ campaign_id: ["Choose the arena campaign that receives the answers."] });
    const chosen = { ...arena, campaign_id: "9" };
    expect(runRequest(chosen, OPTIONS, "k")).toEqual({ kind: "arena", idempotency_key: "k", parent_version_id: 4, campaign_id: 9 });
    expect(runRequest({ ...chosen, compare_version_id: "5" }, OPTIONS, "k")).toMatchObject({ parent_version_id: 4, compare_version_id: 5 });
    expect(validateRun({ ...chosen, compare_version_id: "4" }, OPTIONS)).toEqual({
      compare_version_id: ["Choose a different policy from the first, or none."],
    });
  });
});
