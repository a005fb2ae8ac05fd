/**
 * A generated spec of about `lines` lines for the language server's benchmark and tests: groups of a
 * vision backbone, a language backbone, a model, a stage and an experiment with a 2 x 2 grid, every
 * declaration on its own lines as people write them.
 */
export function generatedSpec(lines: number): string {
  const out = ["// generated for the language server benchmark", 'import "std"', ""];
  for (let i = 0; out.length < lines - 45; i++) {
    out.push(
      `// group ${i}`,
      `vision v${i} = clip_vit {`,
      "  image        = 224",
      "  patch        = 14",
      `  width        = ${256 + 64 * (i % 4)}`,
      "  depth        = 4",
      "  heads        = 8",
      "  select_layer = -2",
      "}",
      "",
      `language l${i} = tiny_gemma_2b { depth = ${2 + (i % 3)} }`,
      "",
      `model m${i} {`,
      `  vision    = v${i}`,
      "  connector = mlp2x_gelu",
      `  language  = l${i}`,
      "}",
      "",
      `stage s${i} {`,
      "  data       = shapes_train",
      "  train      = [connector, language]",
      "  epochs     = 1",
      "  batch      = 16",
      `  lr         = ${(i % 9) + 1}e-4`,
      "  schedule   = cosine { warmup = 0.03 }",
      "  max_length = 512",
      "}",
      "",
      `experiment e${i} {`,
      `  model  = m${i}`,
      `  stages = [s${i}]`,
      `  seed   = ${i}`,
      "  ablate {",
      `    s${i}.lr:                [1e-4, 2e-4]`,
      "    model.connector.depth: [1, 2]",
      "  }",
      "}",
      "",
    );
  }
  return out.join("\n");
}
