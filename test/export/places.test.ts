/**
 * What the export cannot express (E0504) points at the value that causes it, as the spec writes it
 * into the variant, with the axis that brought it in as a secondary span; said once, not once per
 * variant (issue 13: it pointed at `[-1, -2]` for a SigLIP tower, at an axis for a language without
 * checkpoint, into std/ for a dataset).
 */
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../core/diagnostics.js";
import { exportText } from "./helpers.js";

/** The text under a diagnostic's primary span, and its secondary spans as `text: label`. */
function where(d: Diagnostic): { at: string; line: string; secondary: string[] } {
  const s = d.span!;
  const text = s.file.text;
  const lineStart = text.lastIndexOf("\n", s.start - 1) + 1;
  const lineEnd = text.indexOf("\n", s.start);
  return {
    at: text.slice(s.start, s.end),
    line: text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim(),
    secondary: d.secondary.map((l) => `${l.span.file.text.slice(l.span.start, l.span.end)}: ${l.text}`),
  };
}

const spec = (model: string, rest: string, experiment: string) => `import "std"
dataset d = llava_json { annotations = "d.json"  images = "img" }
model m { ${model} }
stage s { data = d  train = [connector]  batch = 64  micro_batch = 8 }
${rest}
experiment e {
  model  = m
  ${experiment}
}
`;

async function e0504(text: string): Promise<Diagnostic[]> {
  const { diagnostics, exports } = await exportText(text);
  // each variant with an error is left out (its folder not written), the others exported
  for (const e of exports) {
    expect(e.failed.length).toBeGreaterThan(0);
    for (const id of e.failed) expect(e.variants.map((v) => v.id)).not.toContain(id);
  }
  return diagnostics.filter((d) => d.code === "E0504");
}

describe("E0504 points at the value that causes it", () => {
  it("a SigLIP tower: at the tower in the model, not at the `select_layer` values that vary it; once", async () => {
    const ds = await e0504(
      spec("vision = siglip_so400m_p14_384  connector = mlp2x_gelu  language = gemma_2b_it", "", "stages = [s]\n  ablate { model.vision.select_layer: [-1, -2] }"),
    );
    expect(ds.map((d) => d.message)).toEqual(["the LLaVA trainer cannot express a SigLIP vision tower"]);
    expect(where(ds[0])).toEqual({ at: "siglip_so400m_p14_384", line: "model m { vision = siglip_so400m_p14_384  connector = mlp2x_gelu  language = gemma_2b_it }", secondary: [] });
  });

  it("a language without checkpoint brought in by an axis: at the value in the axis, the axis as secondary", async () => {
    const ds = await e0504(
      spec(
        "vision = clip_vit_l14_336  connector = mlp2x_gelu  language = gemma_2b_it",
        "",
        "stages = [s]\n  ablate {\n    model.connector.depth: [1, 2]\n    model.language: { real = gemma_2b_it, tiny = tiny_gemma_2b_untrained }\n  }",
      ),
    );
    expect(ds.map((d) => d.message)).toEqual(["the LLaVA trainer cannot express the language backbone `tiny_gemma_2b_untrained` without a checkpoint: it has neither `weights` nor `hub_id`"]);
    expect(where(ds[0])).toEqual({
      at: "tiny_gemma_2b_untrained",
      line: "model.language: { real = gemma_2b_it, tiny = tiny_gemma_2b_untrained }",
      secondary: ["model.language: brought into this variant by the axis `model.language`"],
    });
  });

  it("a language without checkpoint varied by a deeper axis: at the language in the model", async () => {
    const ds = await e0504(spec("vision = clip_vit_l14_336  connector = mlp2x_gelu  language = tiny_gemma_2b_untrained", "", "stages = [s]\n  ablate { model.language.depth: [2, 4] }"));
    expect(ds.map((d) => where(d).at)).toEqual(["tiny_gemma_2b_untrained"]);
    expect(where(ds[0]).line).toMatch(/^model m \{/);
  });

  it("a std benchmark: at its name in the eval's `data`, not at its declaration in std", async () => {
    const ds = await e0504(
      spec("vision = clip_vit_l14_336  connector = mlp2x_gelu  language = gemma_2b_it", "eval q { data = [gqa, mmvp] }", "stages = [s, q]\n  ablate { s.lr: [1e-3, 2e-3] }"),
    );
    expect(ds.map((d) => d.message)).toEqual(["the LLaVA trainer cannot express the benchmark `mmvp`"]);
    expect(where(ds[0])).toEqual({ at: "mmvp", line: "eval q { data = [gqa, mmvp] }", secondary: [] });
  });

  it("a stage brought in by a `stages` axis: at the stage in the axis, the axis as secondary", async () => {
    const ds = await e0504(
      spec(
        "vision = clip_vit_l14_336  connector = mlp2x_gelu  language = gemma_2b_it",
        "stage v { data = d  train = [vision, connector]  batch = 64  micro_batch = 8 }",
        "stages = [s]\n  ablate { stages: { frozen = [s], tuned = [v] } }",
      ),
    );
    expect(ds.map((d) => d.message)).toEqual(["the LLaVA trainer cannot express training the vision backbone in stage `v`"]);
    // `train` as written in the stage, the axis that put the stage into the variant
    expect(where(ds[0])).toEqual({ at: "[vision, connector]", line: "stage v { data = d  train = [vision, connector]  batch = 64  micro_batch = 8 }", secondary: ["stages: brought into this variant by the axis `stages`"] });
  });
});
