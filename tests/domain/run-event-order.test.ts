/**
 * The studio's folding of a run's event stream (app/lib/run-event-order.ts): events may arrive out of seq order
 * (replay and live overlap; two processes publish in another order than their rows were numbered). Each seq counts
 * once, a late lower seq is not dropped, and a run's status only moves forward.
 */
import { describe, expect, it } from "vitest";
import { firstSighting, laterRunStatus, shownRunStatus, stepProgress } from "../../app/lib/run-event-order.js";

describe("run event order in the studio", () => {
  it("passes each seq once, a lower one arriving after a higher one included", () => {
    const unseen = firstSighting();
    expect([5, 3, 5, 4, 3, 6].map(unseen)).toEqual([true, true, false, true, false, true]);
  });

  it("a run's status only moves forward: queued → running → final, never back", () => {
    expect(laterRunStatus(null, "queued")).toBe("queued");
    expect(laterRunStatus("queued", "running")).toBe("running");
    expect(laterRunStatus("running", "queued")).toBe("running");
    expect(laterRunStatus("succeeded", "running")).toBe("succeeded");
    expect(laterRunStatus("running", "canceled")).toBe("canceled");
  });

  it("a step's progress orders pending < under way (running, retrying, waiting) < settled", () => {
    expect(["pending", "running", "waiting", "retrying", "succeeded", "failed", "skipped"].map(stepProgress)).toEqual([0, 1, 1, 1, 2, 2, 2]);
  });

  it("a trace never shows a run queued beside a step that started (a loader snapshot can hold both), nor a finished run back under way", () => {
    expect(shownRunStatus("queued", null, [])).toBe("queued");
    expect(shownRunStatus("queued", null, [{ status: "pending" }])).toBe("queued");
    expect(shownRunStatus("queued", null, [{ status: "running" }])).toBe("running");
    expect(shownRunStatus("queued", "queued", [{ status: "succeeded" }, { status: "running" }])).toBe("running");
    expect(shownRunStatus("queued", "running", [])).toBe("running");
    expect(shownRunStatus("succeeded", "running", [{ status: "running" }])).toBe("succeeded");
    expect(shownRunStatus("running", "failed", [])).toBe("failed");
    expect(shownRunStatus("canceled", "succeeded", [])).toBe("canceled"); // a stored final status is the truth
  });
});
