import { describe, expect, it } from "vitest";
import { commandFor, isReady, keyHelp, pressKeys as press, type Board } from "./keyboard";
import { emptyRanking, tiersOf } from "./ranking";

const board = (labels = ["A", "B", "C", "D"]): Board => ({ ranking: emptyRanking(labels), focus: 0, choice: null });

describe("key mapping", () => {
  it("maps digits up to K to ranks, and ignores larger ones", () => {
    expect(commandFor({ key: "3" }, "rank", 4)).toEqual({ kind: "rank", rank: 3 });
    expect(commandFor({ key: "5" }, "rank", 4)).toBeNull();
  });

  it("ignores keys with Ctrl, Cmd or Alt (browser shortcuts)", () => {
    expect(commandFor({ key: "1", ctrlKey: true }, "rank", 4)).toBeNull();
    expect(commandFor({ key: "Enter", metaKey: true }, "rank", 4)).toBeNull();
  });

  it("maps arrows to focus, Shift+arrows to moving in the ranking", () => {
    expect(commandFor({ key: "ArrowDown" }, "rank", 4)).toEqual({ kind: "focus", delta: 1 });
    expect(commandFor({ key: "ArrowLeft" }, "rank", 4)).toEqual({ kind: "focus", delta: -1 });
    expect(commandFor({ key: "ArrowUp", shiftKey: true }, "rank", 4)).toEqual({ kind: "move", delta: -1 });
  });

  it("in pairwise mode maps 1..7 to the scale", () => {
    expect(commandFor({ key: "1" }, "pairwise", 2)).toEqual({ kind: "choose", index: 0 });
    expect(commandFor({ key: "7" }, "pairwise", 2)).toEqual({ kind: "choose", index: 6 });
    expect(commandFor({ key: "8" }, "pairwise", 2)).toBeNull();
    expect(commandFor({ key: "=" }, "pairwise", 2)).toBeNull();
  });

  it("lists every rank-mode key in the help", () => {
    const keys = keyHelp("rank", 4).map((entry) => entry.keys).join(" ");
    for (const key of ["1 … 4", "=", "Backspace", "↑ ↓", "Shift", "Enter", "?"]) expect(keys).toContain(key);
  });
});

describe("keyboard operations", () => {
  it("a digit ranks the focused response and focus moves to the next unranked one", () => {
    const { board: after } = press(board(), ["2"]);
    expect(after.ranking.ranks.A).toBe(2);
    expect(after.focus).toBe(1);
  });

  it("ranks K=4 with four digits and submits with Enter", () => {
    const { board: after, effects } = press(board(), ["2", "1", "2", "4", "Enter"]);
    expect(tiersOf(after.ranking)).toEqual([["B"], ["A", "C"], ["D"]]);
    expect(isReady(after, "rank")).toBe(true);
    expect(effects).toEqual(["submit"]);
  });

  it("the tie key ties with the one above; arrows move focus back to change a rank", () => {
    const { board: after } = press(board(), ["1", "2", "=", "3", "ArrowUp", "ArrowUp", "ArrowUp", "4"]);
    expect(tiersOf(after.ranking)).toEqual([["B", "C"], ["D"], ["A"]]);
  });

  it("focus wraps to the first unranked response and stays when all are ranked", () => {
    const start = { ...board(), focus: 2 };
    const { board: after } = press(start, ["1", "2"]);
    expect(after.ranking.ranks).toEqual({ A: null, B: null, C: 1, D: 2 });
    expect(after.focus).toBe(0);
    const { board: full } = press(board(["A", "B"]), ["1", "2", "1"]);
    expect(full.focus).toBe(1);
  });

  it("focus stops at the first and last response", () => {
    expect(press(board(), ["ArrowUp"]).board.focus).toBe(0);
    expect(press(board(), ["ArrowDown", "ArrowDown", "ArrowDown", "ArrowDown"]).board.focus).toBe(3);
  });

  it("0 or Backspace clears the focused rank", () => {
    const { board: after } = press(board(), ["1", "ArrowUp", "Backspace"]);
    expect(after.ranking.ranks.A).toBeNull();
    expect(press(board(), ["3", "ArrowUp", "0"]).board.ranking.ranks.A).toBeNull();
  });

  it("Shift+arrow moves the focused response in the ranking", () => {
    const { board: after } = press(board(), ["1", "2", "3", "4", { key: "ArrowUp", shiftKey: true }]);
    // focus stayed on D after the last digit; D moves above C
    expect(tiersOf(after.ranking)).toEqual([["A"], ["B"], ["D"], ["C"]]);
  });

  it("is not ready until every response is ranked", () => {
    const { board: after, effects } = press(board(), ["1", "2", "Enter"]);
    expect(isReady(after, "rank")).toBe(false);
    expect(effects).toEqual(["submit"]); // the page then says what is missing
  });

  it("pairwise: a digit picks a graded point; 4 is a tie", () => {
    const start = board(["A", "B"]);
    expect(press(start, ["2"], "pairwise").board.choice).toEqual({ winner: "A", strength: "better" });
    expect(press(start, ["7"], "pairwise").board.choice).toEqual({ winner: "B", strength: "much_better" });
    expect(press(start, ["4"], "pairwise").board.choice).toEqual({ winner: null, strength: "about_same" });
    expect(isReady(start, "pairwise")).toBe(false);
    expect(isReady(press(start, ["5"], "pairwise").board, "pairwise")).toBe(true);
  });

  it("? and g are effects for the page", () => {
    expect(press(board(), ["?", "g"]).effects).toEqual(["help", "guidelines"]);
  });
});
