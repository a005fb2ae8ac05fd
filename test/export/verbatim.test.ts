import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repo } from "../helpers.js";
import { exportSpec } from "./helpers.js";

describe("the example of LANGUAGE.md §1, exactly as written there", () => {
  it("exports: micro_batch left at its default is chosen per device so that the batch splits and fits", async () => {
    const { exports, diagnostics } = await exportSpec("test/cases/export/language-section1.mmfm", join(repo, "build", "verbatim-export"));
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    const files = exports[0].files;
    const pretrain = files.find((f) => f.path.startsWith("pretrained-clip-2b/") && f.path.endsWith("-pretrain.sh"))!;
    const perDevice = Number(/--per_device_train_batch_size (\d+)/.exec(pretrain.text)![1]);
    const accumulation = Number(/--gradient_accumulation_steps (\d+)/.exec(pretrain.text)![1]);
    expect(perDevice * 8 * accumulation).toBe(256);
    const finetune = files.find((f) => f.path.startsWith("pretrained-clip-2b/") && f.path.endsWith("-finetune.sh"))!;
    expect(Number(/--per_device_train_batch_size (\d+)/.exec(finetune.text)![1]) * 8 * Number(/--gradient_accumulation_steps (\d+)/.exec(finetune.text)![1])).toBe(128);
    expect(readFileSync(join(repo, "test", "cases", "export", "language-section1.mmfm"), "utf8")).not.toContain("micro_batch");
  });
});
