/**
 * `mmfmc run` with a Llama language model: the vicuna_v1 template (the model's default over a
 * llama), a Llama-layout tokenizer built for the synthetic data, training and greedy evaluation
 * stopping at `</s>`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mmfmc, repo, tempDir } from "../helpers.js";

describe("mmfmc run with tiny_llama", () => {
  it("trains and evaluates LLaVA over a Llama with the vicuna_v1 template", () => {
    const work = tempDir("mmfm-run-llama-");
    const runs = join(work, "runs");
    const out = join(work, "build");
    const r = mmfmc(["run", join(repo, "test", "cases", "run", "micro_llama.mmfm"), "--runs", runs, "--out", out, "--backend", "wasm"]);
    expect(r.stderr).toContain("2 stages trained, 1 evaluated");
    expect(r.status).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, "micro_llama", "default", "plan.json"), "utf8"));
    expect(plan.model.template).toBe("vicuna_v1");
    expect(plan.stages.map((s: { template?: string }) => s.template)).toEqual(["vicuna_v1", "vicuna_v1", undefined]);
    expect(readFileSync(join(out, "micro_llama", "default", "graph.ts"), "utf8")).toContain("export const language = llama({");
    const config = JSON.parse(readFileSync(join(runs, "micro_llama", "data", "synthetic_shapes-tokenizer-llama", "tokenizer", "tokenizer_config.json"), "utf8"));
    expect(config).toMatchObject({ bos_token: "<s>", eos_token: "</s>", tokenizer_class: "LlamaTokenizer" });
    const stages = join(runs, "micro_llama", "stages");
    const records = readdirSync(stages).map((k) => JSON.parse(readFileSync(join(stages, k, "stage.json"), "utf8")));
    for (const s of records.filter((x) => x.kind !== "eval")) expect(Number.isFinite(s.finalLoss), s.name).toBe(true);
    expect(Object.keys(records.find((x) => x.kind === "eval").metrics)).toContain("test.accuracy");
  });
});
