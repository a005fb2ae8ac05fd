/** synthetic_shapes' `questions`: question/answer turns per conversation of the train and text splits. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SyntheticShapesPlan } from "../../plan/plan.js";
import { syntheticFolder } from "../../runtime/run/data.js";
import { tempDir } from "../helpers.js";

type Conversation = { image?: string; conversations: { from: string; value: string }[] };
const plan = (split: SyntheticShapesPlan["split"], questions: number): SyntheticShapesPlan => ({ family: "synthetic_shapes", name: "d", split, size: 12, seed: 4, image: 32, shapes: 4, questions });
const TYPES: [RegExp, string][] = [[/^What color/, "color"], [/^What shape/, "shape"], [/^How many/, "count"], [/^Where is/, "position"], [/^Is there/, "yesno"]];
const typeOf = (human: string) => TYPES.find(([re]) => re.test(human.replace(/^(<image>|[^\n]*shapes?: [^\n]*)\n/, "")))?.[1];

describe("synthetic_shapes questions", () => {
  it("asks that many questions per conversation, each of another type, in the train and text splits", async () => {
    const ctx = { specDir: tempDir("mmfm-questions-"), cacheDir: tempDir("mmfm-questions-cache-") };
    for (const [split, file] of [["train", "train.json"], ["text", "text.json"]] as const) {
      for (const questions of [1, 3, 5]) {
        const dir = await syntheticFolder(plan(split, questions), ctx);
        const samples = (JSON.parse(readFileSync(join(dir, file), "utf8")) as Conversation[]).filter((s) => split === "text" || s.image);
        expect(samples.length).toBeGreaterThan(0);
        for (const s of samples) {
          const humans = s.conversations.filter((t) => t.from === "human").map((t) => t.value);
          expect(humans, JSON.stringify(s)).toHaveLength(questions);
          const types = humans.map(typeOf);
          expect(types.every((t) => t !== undefined), JSON.stringify(humans)).toBe(true);
          expect(new Set(types).size).toBe(questions);
        }
      }
    }
  });

  it("keeps the default's folder name, and gives other counts their own folder", async () => {
    const ctx = { specDir: tempDir("mmfm-questions-"), cacheDir: tempDir("mmfm-questions-cache-") };
    expect(await syntheticFolder(plan("train", 3), ctx)).toBe(join(ctx.cacheDir, "synthetic_shapes-seed4-32px-4shapes-train-12"));
    expect(await syntheticFolder(plan("train", 5), ctx)).toBe(join(ctx.cacheDir, "synthetic_shapes-seed4-32px-4shapes-5q-train-12"));
    // the caption and test splits ask no training questions: the field does not part their folders
    expect(await syntheticFolder(plan("caption", 5), ctx)).toBe(await syntheticFolder(plan("caption", 3), ctx));
  });
});
