/**
 * The `llama` language family in the language (issue 12): its fields with LlamaConfig's defaults and
 * the computed ones (kv_heads = heads, head_dim = width / heads), `rope_scaling` and `tied` into the
 * plan and the count, a diagnostic with a suggestion for each field's typo, the `vicuna_v1`
 * template, and the emitted graph module (`llama(...)`), which must type-check against the runtime.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emit } from "../../compiler/emit.js";
import { compile } from "../../compiler/pipeline.js";
import { buildPlan } from "../../compiler/plan.js";
import { families } from "../../compiler/families.js";
import { casesDir, repoRoot } from "./harness.js";
import { llamaFormula } from "./reference.js";

type Obj = Record<string, unknown>;

function spec(language: string, extra = ""): string {
  return `import "std"
language lm = ${language}
model m {
  vision    = tiny_clip_vit
  connector = mlp2x_gelu
  language  = lm
  ${extra}
}
stage s { data = shapes_train  train = [connector, language] }
experiment e { model = m  stages = [s] }
`;
}

function compiled(text: string) {
  const result = compile(join(casesDir, "valid", "llama_probe.mmfm"), { text });
  const errors = result.diagnostics.items.filter((d) => d.severity === "error");
  return { result, errors, variants: result.experiments.flatMap((e) => e.variants) };
}

describe("the llama family", () => {
  it("fills LlamaConfig's defaults, kv_heads = heads and head_dim = width / heads, and counts its own output head", () => {
    const { errors, variants } = compiled(spec("llama { vocab = 100  width = 48  depth = 2  heads = 6  mlp = 64 }"));
    expect(errors.map((d) => d.message)).toEqual([]);
    const model = variants[0].config.model;
    const lm = model.json.language as Obj;
    expect(lm).toMatchObject({ family: "llama", kv_heads: 6, head_dim: 8, act: "silu", rope_theta: 10000, rope_scaling: null, norm_eps: 1e-6, max_positions: 2048, tied: false });
    expect(model.params.language).toBe(llamaFormula(lm));
    expect(model.params.language).toBe(100 * 48 * 2 + 2 * (4 * 48 * 48 + 3 * 48 * 64 + 2 * 48) + 48);
    expect(model.json.template).toBe("vicuna_v1");
  });

  it("`tied` drops the head from the count; `rope_scaling` and `kv_heads` go into the plan", () => {
    const base = "llama { vocab = 100  width = 48  depth = 2  heads = 6  mlp = 64";
    const untied = compiled(spec(`${base} }`)).variants[0].config.model.params.language;
    const { errors, variants } = compiled(spec(`${base}  tied = true  rope_scaling = 2.0  kv_heads = 2 }`, 'template = "plain"'));
    expect(errors.map((d) => d.message)).toEqual([]);
    const model = variants[0].config.model;
    expect(model.json.language).toMatchObject({ tied: true, rope_scaling: 2, kv_heads: 2 });
    expect(model.params.language).toBe(untied - 100 * 48 - 2 * 2 * 48 * (48 - 16)); // no head; k and v of 2 heads of 8, not 6
    expect(model.json.template).toBe("plain");
  });

  it("the tiny preset is a grouped-query Llama", () => {
    const { errors, variants } = compiled(spec("tiny_llama"));
    expect(errors).toEqual([]);
    const lm = variants[0].config.model.json.language as Obj;
    expect(lm).toMatchObject({ family: "llama", heads: 4, kv_heads: 2, head_dim: 16, mlp: 176, norm_eps: 1e-5 });
    expect(variants[0].config.model.params.language).toBe(llamaFormula(lm));
  });

  it("every field has a suggestion for its typo", () => {
    const fields = Object.keys(families.find((f) => f.name === "llama")!.fields);
    expect(fields).toEqual(["vocab", "width", "depth", "heads", "kv_heads", "head_dim", "mlp", "act", "rope_theta", "rope_scaling", "norm_eps", "max_positions", "tied", "init_std", "tokenizer", "weights", "hub_id"]);
    for (const field of fields) {
      const typo = field.length > 4 ? field.slice(0, -1) : `${field}s`; // a dropped or an added last letter
      const { errors } = compiled(spec(`llama { ${typo} = 1 }`));
      const unknown = errors.find((d) => d.code === "E0203");
      expect(unknown?.message, typo).toBe(`unknown field \`${typo}\` in language \`lm\``);
      expect(unknown?.label, typo).toBe(`did you mean \`${field}\`?`);
    }
  });

  it("refuses a rope_scaling of 1 or less (transformers requires a factor above 1) and an unknown template", () => {
    const { errors } = compiled(spec("llama { rope_scaling = 1.0 }", 'template = "vicuna"'));
    expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E0302 `rope_scaling` of language `lm` must be greater than 1, found `1.0`",
      'E0303 `template` of model `m` must be one of `"gemma"`, `"plain"` or `"vicuna_v1"`, found `"vicuna"`',
    ]);
  });

  it("emits `llama({...})` with the plan's fields, and the module type-checks against the runtime's graph API", () => {
    const { variants, result } = compiled(spec("tiny_llama", "template = \"vicuna_v1\""));
    const e = result.experiments[0];
    const plans = variants.map((v) => buildPlan(v, { specPath: join(casesDir, "valid", "llama_probe.mmfm"), planDir: join(repoRoot, "build", "llama_probe"), stdDir: join(repoRoot, "std") }));
    const files = emit({ experiment: e.name, source: "llama_probe.mmfm", axes: e.axes, plans }); // throws when it does not type-check
    const graph = files.find((f) => f.path.endsWith("graph.ts"))!.text;
    expect(graph).toMatch(/import \{ clipVit, evalStage, llama, llava, mlp, stage, type Plan \} from "mmfm\/runtime";/);
    expect(graph).toContain("export const language = llama({\n  vocab: 512,\n  width: 64,\n  depth: 2,\n  heads: 4,\n  kv_heads: 2,\n  head_dim: 16,");
    expect(graph).toContain('rope_scaling: null,\n  norm_eps: 0.00001,\n  max_positions: 256,\n  tied: false,');
    expect(graph).toContain('llava({ vision, connector, language, template: "vicuna_v1", image_token: "<image>" })');
  });
});
