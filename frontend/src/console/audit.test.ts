import { describe, expect, it } from "vitest";
import { describeActor, describeDetails, describeTarget, pageWindow } from "./audit";

describe("describeDetails", () => {
  it("writes an event's details as key: value pairs", () => {
    expect(describeDetails({ reason: "too fast", fields: ["overlap", "status"] })).toBe('reason: too fast; fields: ["overlap","status"]');
    expect(describeDetails({})).toBe("");
    expect(describeDetails(null)).toBe("");
  });
});

describe("describeTarget", () => {
  it("names the target type and id", () => {
    expect(describeTarget({ target_type: "campaign", target_id: "4" })).toBe("campaign #4");
    expect(describeTarget({ target_type: "system", target_id: "" })).toBe("system");
  });

  it("leads with the target's name when the event has one", () => {
    expect(describeTarget({ target_type: "User", target_id: "7", target_name: "rita" })).toBe("rita (User #7)");
    expect(describeTarget({ target_type: "Export", target_id: "", target_name: "preferences (csv)" })).toBe("preferences (csv) (Export)");
    expect(describeTarget({ target_type: "Task", target_id: "3", target_name: "" })).toBe("Task #3");
  });
});

describe("describeActor", () => {
  it("names the actor kept on the event, or none for the system", () => {
    expect(describeActor({ actor_name: "amy", actor_username: "amy" })).toBe("amy");
    // the actor's account was deleted: the name kept on the event still says who it was
    expect(describeActor({ actor_name: "amy", actor_username: "" })).toBe("amy");
    expect(describeActor({ actor_name: "", actor_username: "" })).toBeNull();
  });
});

describe("pageWindow", () => {
  it("says which rows are shown and whether there are more", () => {
    expect(pageWindow(0, 25, 60)).toEqual({ first: 1, last: 25, hasPrevious: false, hasNext: true, text: "1–25 of 60" });
    expect(pageWindow(50, 10, 60)).toEqual({ first: 51, last: 60, hasPrevious: true, hasNext: false, text: "51–60 of 60" });
    expect(pageWindow(0, 0, 0).text).toBe("No events");
  });
});
