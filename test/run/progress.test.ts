/**
 * The run's progress as the command line prints it (cli/progress.ts), one variant at a time and side
 * by side (`--jobs`): every stage line of a parallel run names its variant, each stage's ETA counts
 * from its own start (a resumed stage from its checkpoint), and on a terminal the status line shows
 * every stage running now.
 */
import { describe, expect, it } from "vitest";
import { Progress } from "../../cli/progress.js";
import { memoryOutput } from "../../cli/output.js";
import type { RunEvent } from "../../runtime/run/events.js";

const start = (variant: string, stage: string, resumedFrom?: number): RunEvent => ({
  type: "stage-start",
  variant,
  stage,
  kind: "stage",
  steps: 100,
  resumedFrom,
  description: "synthetic_shapes train (64 samples, 64px)",
  trainable: "connector",
});
const step = (variant: string, stage: string, n: number, seconds: number): RunEvent => ({ type: "step", variant, stage, step: n, steps: 100, loss: 0.5, samplesPerSecond: 10, seconds });

function terminal() {
  const out = { ...memoryOutput(), animate: true, statuses: [] as string[] };
  out.status = (text: string) => void out.statuses.push(text);
  return out;
}

describe("run progress", () => {
  it("one variant at a time: stage lines as before, without the variant", () => {
    const out = memoryOutput();
    const p = new Progress(out, 0);
    p.handle({ type: "variant", variant: "e/a-1", index: 0, count: 2 });
    p.handle(start("e/a-1", "finetune"));
    p.handle({ type: "stage-end", variant: "e/a-1", stage: "finetune", seconds: 1.5, finalLoss: 0.25 });
    expect(out.stderr).toContain("[1/2] e/a-1");
    expect(out.stderr).toMatch(/train {4}finetune: synthetic_shapes/);
    expect(out.stderr).toMatch(/done {5}finetune in 1\.5 s {2}final loss 0\.2500/);
  });

  it("side by side: every stage line names its variant, and each stage's ETA counts from its own start", () => {
    const out = memoryOutput();
    const p = new Progress(out, 0, true);
    p.handle(start("e/a-1", "finetune"));
    p.handle(start("e/b-2", "finetune", 50)); // resumed at step 50
    p.handle(step("e/a-1", "finetune", 10, 10)); // 1 s per step, 90 to go
    p.handle(step("e/b-2", "finetune", 60, 10)); // 10 steps since its resume: 1 s per step, 40 to go
    p.handle({ type: "stage-cached", variant: "e/b-2", stage: "pretrain", computedBy: "e/a-1" });
    p.handle({ type: "stage-end", variant: "e/b-2", stage: "finetune", seconds: 40 });
    expect(out.stderr).toMatch(/train {4}a-1 finetune: /);
    expect(out.stderr).toMatch(/train {4}b-2 finetune: .*resuming from step 50/);
    expect(out.stderr).toMatch(/a-1 {2}finetune {2}10\/100 .*ETA 1:30/);
    expect(out.stderr).toMatch(/b-2 {2}finetune {2}60\/100 .*ETA 0:40/);
    expect(out.stderr).toMatch(/cached {3}b-2 pretrain \(computed by a-1\)/);
    expect(out.stderr).toMatch(/done {5}b-2 finetune in 40\.0 s/);
  });

  it("on a terminal, the status line holds every running stage and drops one when it ends", () => {
    const out = terminal();
    const p = new Progress(out, 10, true);
    p.handle(start("e/a-1", "finetune"));
    p.handle(start("e/b-2", "finetune"));
    p.handle(step("e/a-1", "finetune", 10, 10));
    p.handle(step("e/b-2", "finetune", 20, 10));
    const both = out.statuses.at(-1)!;
    expect(both).toContain("a-1  finetune  10/100");
    expect(both).toContain("b-2  finetune  20/100");
    p.handle({ type: "stage-end", variant: "e/a-1", stage: "finetune", seconds: 40 });
    p.handle(step("e/b-2", "finetune", 21, 11));
    const one = out.statuses.at(-1)!;
    expect(one).not.toContain("a-1");
    expect(one).toContain("b-2  finetune  21/100");
    p.finish();
    expect(out.statuses.at(-1)).toBe("");
  });
});
