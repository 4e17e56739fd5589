import { describe, expect, it } from "vitest";
import {
  clearDraft,
  draftKey,
  loadDraft,
  newDraft,
  newIdempotencyKey,
  retryDelayMs,
  saveDraft,
  type Draft,
  type KeyValueStore,
} from "./draft";
import { restoreRanking, setRank, emptyRanking, tiersOf } from "./ranking";

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

function sampleDraft(): Draft {
  const ranking = setRank(setRank(emptyRanking(["A", "B", "C"]), "B", 1), "A", 2);
  return {
    ...newDraft(17, 1_000),
    ranks: { ...ranking.ranks },
    flags: ["unsafe"],
    rationale: "B is right",
    focus: 2,
  };
}

describe("draft restore", () => {
  it("round-trips the ranking in progress, flags, rationale, focus and start time", () => {
    const store = memoryStore();
    saveDraft(store, "ann", sampleDraft());

    const restored = loadDraft(store, "ann")!;
    expect(restored).toEqual(sampleDraft());
    const ranking = restoreRanking(["A", "B", "C"], restored.ranks);
    expect(tiersOf(ranking)).toEqual([["B"], ["A"]]);
    expect(ranking.ranks.C).toBeNull();
  });

  it("keeps a pending submission with its idempotency key", () => {
    const store = memoryStore();
    const body = { ranking: [["B"], ["A", "C"]], idempotency_key: "k".repeat(32), flags: [], rationale: "", client_time_ms: 5 };
    saveDraft(store, "ann", { ...sampleDraft(), pending: { body, attempts: 2, lastError: "offline" } });

    expect(loadDraft(store, "ann")!.pending).toEqual({ body, attempts: 2, lastError: "offline" });
  });

  it("keeps one draft per user", () => {
    const store = memoryStore();
    saveDraft(store, "ann", sampleDraft());
    expect(loadDraft(store, "bob")).toBeNull();
    expect(store.data.has(draftKey("ann"))).toBe(true);
  });

  it("drops drafts it cannot trust", () => {
    const store = memoryStore();
    for (const raw of ["{", "null", "[]", JSON.stringify({ ...sampleDraft(), version: 2 }),
      JSON.stringify({ ...sampleDraft(), ranks: { A: "1" } }),
      JSON.stringify({ ...sampleDraft(), pending: { body: { ranking: "B" } } }),
      JSON.stringify({ ...sampleDraft(), choice: { winner: "A", strength: "about_same" } })]) {
      store.setItem(draftKey("ann"), raw);
      expect(loadDraft(store, "ann")).toBeNull();
    }
  });

  it("clears", () => {
    const store = memoryStore();
    saveDraft(store, "ann", sampleDraft());
    clearDraft(store, "ann");
    expect(loadDraft(store, "ann")).toBeNull();
  });

  it("survives a store that refuses to write", () => {
    const full: KeyValueStore = {
      getItem: () => null,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => undefined,
    };
    expect(saveDraft(full, "ann", sampleDraft())).toBe(false);
  });
});

describe("submission keys and retries", () => {
  it("makes 32-hex keys the API accepts", () => {
    const key = newIdempotencyKey((bytes) => bytes.fill(171));
    expect(key).toBe("ab".repeat(16));
    expect(key).toMatch(/^[A-Za-z0-9_.:-]{8,100}$/);
  });

  it("retries quickly at first, then every 8 seconds", () => {
    expect([1, 2, 3, 4, 5, 9].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
});
