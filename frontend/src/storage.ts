import type { KeyValueStore } from "./ranking/draft";

/** localStorage when the browser allows it, else a memory store (the page still works). */
export function browserStorage(): KeyValueStore {
  try {
    const probe = "rlhf-studio:probe";
    window.localStorage.setItem(probe, "1");
    window.localStorage.removeItem(probe);
    return window.localStorage;
  } catch {
    const memory = new Map<string, string>();
    return {
      getItem: (key) => memory.get(key) ?? null,
      setItem: (key, value) => void memory.set(key, value),
      removeItem: (key) => void memory.delete(key),
    };
  }
}
